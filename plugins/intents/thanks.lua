-- Thanks and goodbye: a short, warm close. Only whole-message thanks match,
-- so "thanks, but where is my refund?" still reaches the knowledge base.

sb.intent{
  name = "thanks",
  priority = 40,
  match = [[^\W*(thanks?( you)?( (so|very) much| a lot)?|thx|ty|cheers|bye|goodbye|see you|obrigad[oa]( mesmo)?|muito obrigad[oa]|valeu|tchau|até logo|até mais|mul[țţt]umesc( frumos| mult)?|mersi|la revedere|pa|o zi bun[ăa])\W*$]],
  handler = function(ctx)
    ctx:reply(ctx:t("bot.thanks"))
  end,
}
