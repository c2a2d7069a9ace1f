from lettr_cli.cli.main import main

main()
