from django.urls import path

from embargo.api import api
from embargo.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("api/v1/", api.urls),
]
