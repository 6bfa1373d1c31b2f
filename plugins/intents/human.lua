-- "Talk to a human": hands the conversation to a person at once, when the
-- customer asks in any of our languages (people mix them, so one pattern
-- covers all) or taps the "talk to a person" button. The core tells the
-- customer and keeps the bot silent from then on.

local EN = [[\b(human|real person|operator|representative|(talk|speak|chat) (to|with) (an? )?(agent|person|someone|somebody|support|staff))\b]]
local PT = [[\b(atendente|humano|pessoa de verdade|operador|falar com (algu[eé]m|uma pessoa|o suporte|um agente))\b]]
local RO = [[\b(operator|uman|om real|o persoan[aă]|(vorbesc|vorbi) cu (cineva|un om|o persoan[aă]|un operator|un agent))\b]]

sb.intent{
  name = "human",
  priority = 100,
  payload = "/human",
  match = EN .. "|" .. PT .. "|" .. RO,
  handler = function(ctx)
    ctx:handoff{ reason = "customer_request" }
  end,
}
