from bamara.cli import main

main()
