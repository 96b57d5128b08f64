from bot.line.app import main

main()
