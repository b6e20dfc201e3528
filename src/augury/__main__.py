from augury.cli import main

main()
