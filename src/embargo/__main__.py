from embargo.cli import main

raise SystemExit(main())
