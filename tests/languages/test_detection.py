"""Offline language detection of reports, with lingua's real models: code, traces and URLs do not outvote prose."""

# Each language's own punctuation and letters are the point of the sentences here, not look-alikes of ASCII.
# ruff: noqa: RUF001

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from embargo.languages.detection import detect, detector, reset, supported_languages


@pytest.fixture(autouse=True)
def _fresh_detector() -> Iterator[None]:
    reset()
    yield
    reset()


REPORTS = {
    "zh": "上传一个空文件时，服务器会崩溃并返回错误页面。这个问题可以让未登录的用户读取其他用户的私人文件。"
    "请尽快修复，谢谢。",
    "ja": "空のファイルをアップロードすると、サーバーがエラーを返して停止します。"
    "ログインしていない利用者でも、他人の非公開ファイルを読むことができてしまいます。早めの修正をお願いします。",
    "ru": "При загрузке пустого файла сервер падает и показывает страницу с ошибкой. Из-за этой уязвимости "
    "неавторизованный пользователь может прочитать чужие личные файлы. Пожалуйста, исправьте это как можно скорее.",
    "ar": "عند رفع ملف فارغ يتوقف الخادم ويعرض صفحة خطأ. تسمح هذه الثغرة لأي مستخدم غير مسجل بقراءة الملفات "
    "الخاصة بالمستخدمين الآخرين. أرجو إصلاح المشكلة في أقرب وقت ممكن.",
    "es": "Cuando se sube un archivo vacío, el servidor se cae y muestra una página de error. Esta vulnerabilidad "
    "permite que un usuario sin sesión lea los archivos privados de otras personas. Por favor, corríjanlo pronto.",
    "de": "Wenn man eine leere Datei hochlädt, stürzt der Server ab und zeigt eine Fehlerseite. Durch diese Lücke "
    "kann ein nicht angemeldeter Benutzer die privaten Dateien anderer Leute lesen. Bitte beheben Sie das bald.",
    "fr": "Quand on envoie un fichier vide, le serveur plante et affiche une page d'erreur. Cette faille permet à "
    "un utilisateur non connecté de lire les fichiers privés des autres. Merci de corriger cela rapidement.",
    "pt": "Quando se envia um arquivo vazio, o servidor trava e mostra uma página de erro. Essa falha permite que um "
    "usuário sem login leia os arquivos privados de outras pessoas. Por favor, corrijam isso o quanto antes.",
    "en": "When you upload an empty file, the server crashes and shows an error page. This flaw lets a user who is "
    "not logged in read other people's private files. Please fix it as soon as you can.",
    "ko": "빈 파일을 업로드하면 서버가 멈추고 오류 페이지를 보여 줍니다. 이 취약점 때문에 로그인하지 않은 사용자도 "
    "다른 사람의 개인 파일을 읽을 수 있습니다. 가능한 한 빨리 고쳐 주세요.",
    "it": "Quando si carica un file vuoto, il server si blocca e mostra una pagina di errore. Questa falla permette "
    "a un utente non autenticato di leggere i file privati degli altri. Vi prego di correggerlo al più presto.",
}


@pytest.mark.parametrize("language", sorted(REPORTS))
def test_a_report_is_detected_in_its_language(language: str) -> None:
    found = detect(REPORTS[language])
    assert found is not None
    assert found.language == language
    assert 0.5 < found.confidence <= 1
    assert found.confidence == round(found.confidence, 3)


# English machine text that, by volume, dwarfs the French prose around it.
TRACEBACK = """\
Traceback (most recent call last):
  File "/srv/app/views.py", line 42, in upload
    data = parse_upload(request.body, max_size=settings.MAX_UPLOAD_SIZE)
  File "/srv/app/parse.py", line 7, in parse_upload
    return int(header.split(b":")[1])
IndexError: list index out of range while reading the content length of the uploaded file
"""
CODE = """\
```python
# Send an empty file to the upload endpoint and watch the server crash with the error above
import requests
response = requests.post("http://localhost:8000/upload", files={"file": ("empty.txt", b"")})
print("the server returned", response.status_code, "instead of a clean validation error")
```
"""
FRENCH_WITH_TRACE = (
    "Bonjour, le serveur plante quand on envoie un fichier vide. Voici la trace complète.\n\n"
    f"{TRACEBACK}\nEt voici comment le reproduire :\n\n{CODE}\n"
    "Merci d'avance, voir aussi https://example.org/security/policy-and-disclosure-process.\n"
)


def test_a_french_report_with_an_english_traceback_and_code_is_french() -> None:
    # Shown whole, the report reads as English to lingua: the machine text outvotes the prose.
    whole = detector().compute_language_confidence_values(FRENCH_WITH_TRACE)[0]
    assert whole.language.iso_code_639_1.name.lower() == "en"
    found = detect(FRENCH_WITH_TRACE)
    assert found is not None
    assert found.language == "fr"
    assert found.confidence > 0.5


def test_without_its_prose_the_same_report_is_not_french() -> None:
    machine_text = f"{TRACEBACK}\n{CODE}"
    # Shown to the detector as it is, the machine text alone reads as English...
    best = detector().compute_language_confidence_values(machine_text)[0]
    assert best.language.iso_code_639_1.name.lower() == "en"
    # ...and it is all set aside: alone, it leaves no prose to detect.
    assert detect(machine_text) is None


@pytest.mark.parametrize("text", ["", "   \n\n", "```\nimport os\n```", "$ make test\n>>> 1 + 1", "ok", "42 !!"])
def test_too_little_prose_gives_no_language(text: str) -> None:
    assert detect(text) is None


@override_settings(EMBARGO_DETECTION_LANGUAGES=["en", "de"])
@pytest.mark.parametrize("language", sorted(REPORTS))
def test_a_narrow_candidate_list_never_answers_outside_it(language: str) -> None:
    found = detect(REPORTS[language])
    assert found is None or found.language in {"en", "de"}


@override_settings(EMBARGO_DETECTION_LANGUAGES=["en", "de"])
@pytest.mark.parametrize("language", ["en", "de"])
def test_a_narrow_candidate_list_still_tells_its_languages_apart(language: str) -> None:
    found = detect(REPORTS[language])
    assert found is not None
    assert found.language == language


@pytest.mark.parametrize("codes", [["en", "xx"], ["en", "EN"], ["en", "eng"], ["en", "tlh"], ["en", "kl"]])
def test_an_unknown_or_unsupported_code_is_a_configuration_error(codes: list[str]) -> None:
    with override_settings(EMBARGO_DETECTION_LANGUAGES=codes), pytest.raises(ImproperlyConfigured) as raised:
        detector()
    assert repr(codes[1]) in str(raised.value)
    assert "EMBARGO_DETECTION_LANGUAGES" in str(raised.value)


def test_one_language_is_no_choice_and_a_configuration_error() -> None:
    with override_settings(EMBARGO_DETECTION_LANGUAGES=["en"]), pytest.raises(ImproperlyConfigured):
        detector()


def test_the_detector_is_built_once_per_process() -> None:
    first = detector()
    assert detector() is first
    detect(REPORTS["fr"])
    assert detector() is first


def test_reset_drops_the_detector() -> None:
    first = detector()
    reset()
    assert detector() is not first


def test_a_changed_setting_is_never_answered_by_a_stale_detector() -> None:
    wide = detector()
    with override_settings(EMBARGO_DETECTION_LANGUAGES=["en", "de"]):
        assert detector() is not wide
        found = detect(REPORTS["fr"])
        assert found is None or found.language in {"en", "de"}


def test_the_supported_languages_are_iso_codes_including_the_configured_ones() -> None:
    codes = supported_languages()
    assert codes == sorted(codes)
    assert {"en", "fr", "zh", "ja", "ko", "ar", "ru", "la"} <= set(codes)
    assert "kl" not in codes
    assert set(settings.EMBARGO_DETECTION_LANGUAGES) <= set(codes)


def test_importing_the_module_loads_no_lingua() -> None:
    # A web process imports the module for its names; lingua (and any model) loads only when a detector is built.
    code = "import sys, embargo.languages.detection; print('lingua' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "False"
