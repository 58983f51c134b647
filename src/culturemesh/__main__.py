from culturemesh.cli import main

main()
