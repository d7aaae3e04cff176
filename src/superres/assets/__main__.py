from superres.assets import main

raise SystemExit(main())
