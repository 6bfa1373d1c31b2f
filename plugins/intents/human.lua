-- "Talk to a human": hands the conversation to a person at once, in any of
-- our languages, or when the customer taps the "talk to a person" button.
-- The core tells the customer and keeps the bot silent from then on.

sb.intent{
  name = "human",
  priority = 100,
  payload = "/human",
  match = {
    en = [[\b(human|real person|a person|someone real|agent|operator|representative|customer service rep|talk to (someone|somebody|support))\b]],
    pt = [[\b(atendente|humano|uma pessoa|pessoa de verdade|falar com (algu[eé]m|uma pessoa|o suporte)|operador|agente)\b]],
    ro = [[\b(operator|om real|uman|o persoan[aă]|agent|cineva real|vorbesc cu cineva|vreau s[aă] vorbesc)\b]],
  },
  handler = function(ctx)
    ctx:handoff{ reason = "customer_request" }
  end,
}
