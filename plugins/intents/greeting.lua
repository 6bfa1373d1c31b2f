-- Answers a bare greeting ("hi", "olá", "bună ziua") and says what the bot
-- can do, in the conversation's language whichever language the greeting
-- was in. A greeting followed by a question is left to the other intents.
-- Messengers' start button (Telegram's /start) is a greeting too.

sb.intent{
  name = "greeting",
  priority = 50,
  payload = "/start",
  match = [[^\W*(hi|hello|hey|hiya|good (morning|afternoon|evening)|oi|olá|ola|e aí|bom dia|boa tarde|boa noite|salut|bun[ăa]( ziua| seara)?|hei)( there)?\W*$]],
  handler = function(ctx)
    ctx:reply(ctx:t("bot.greeting"))
  end,
}
