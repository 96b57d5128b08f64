from bot.web import main

main()
