from assistant.present.cli import main

raise SystemExit(main())
