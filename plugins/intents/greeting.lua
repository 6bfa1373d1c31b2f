-- Answers a bare greeting ("hi", "olá", "bună ziua") and says what the bot
-- can do, in the conversation's language whichever language the greeting
-- was in. A greeting followed by a question is left to the other intents.

sb.intent{
  name = "greeting",
  priority = 50,
  match = [[^\W*(hi|hello|hey|hiya|good (morning|afternoon|evening)|oi|olá|ola|e aí|bom dia|boa tarde|boa noite|salut|bun[ăa]( ziua| seara)?|hei)( there)?\W*$]],
  handler = function(ctx)
    ctx:reply(ctx:pick{
      en = "Hello! I can help with orders and tracking, shipping, returns and refunds, payments, and your account. What do you need?",
      pt = "Olá! Posso ajudar com pedidos e rastreio, entrega, trocas e reembolsos, pagamentos e sua conta. Do que você precisa?",
      ro = "Bună ziua! Vă pot ajuta cu comenzi și urmărirea lor, livrare, retururi și rambursări, plăți și contul dvs. Cu ce vă pot ajuta?",
    })
  end,
}
