-- The knowledge-base answer: the last intent, it always answers.
--   confident hit        -> the article's summary, a link to its help page,
--                           and "did this help?" quick replies
--   nothing confident    -> one clarifying reply (with weak candidates)
--   a second miss, or two "no, that didn't help" -> hand off to a person
-- State lives in conversation attributes, never in Lua globals.

local MISSES_BEFORE_HANDOFF = 2
local CANDIDATE_FLOOR = 0.15

local T = {
  yes = { en = "Yes, that helped", pt = "Sim, ajudou", ro = "Da, m-a ajutat" },
  no = { en = "No", pt = "Não", ro = "Nu" },
  human = { en = "Talk to a person", pt = "Falar com uma pessoa", ro = "Vorbesc cu o persoană" },
  glad = {
    en = "Glad that helped! Anything else I can do?",
    pt = "Que bom que ajudou! Posso ajudar em mais alguma coisa?",
    ro = "Mă bucur că v-a ajutat! Vă mai pot ajuta cu ceva?",
  },
  sorry = {
    en = "Sorry that didn't help. Could you tell me a bit more about what you need?",
    pt = "Desculpe, isso não ajudou. Pode me contar um pouco mais sobre o que você precisa?",
    ro = "Îmi pare rău că nu v-a ajutat. Îmi puteți spune mai multe despre ce aveți nevoie?",
  },
  clarify = {
    en = "I'm not sure I understood. Could you say it in other words, for example what you ordered or what went wrong?",
    pt = "Não tenho certeza se entendi. Pode explicar de outro jeito, por exemplo o que você pediu ou o que deu errado?",
    ro = "Nu sunt sigur că am înțeles. Puteți reformula, de exemplu ce ați comandat sau ce nu a mers?",
  },
  maybe = {
    en = "I'm not sure I understood. Is it one of these?",
    pt = "Não tenho certeza se entendi. É algum destes?",
    ro = "Nu sunt sigur că am înțeles. Este unul dintre acestea?",
  },
}

-- Typed answers to "did this help?" on channels without buttons.
local YES = [[^\W*(yes|yeah|yep|it did|sim|ajudou|da|m-a ajutat)\b]]
local NO = [[^\W*(no|nope|not really|não|nao|nu)\W*$]]

local function miss(ctx, reason)
  local misses = (ctx:get("kb_misses") or 0) + 1
  ctx:set("kb_misses", misses)
  if misses >= MISSES_BEFORE_HANDOFF then
    ctx:handoff{ reason = reason }
    return true
  end
  return false
end

local function feedback(ctx)
  local asked = ctx:get("kb_asked")
  local asked_id = ctx:get("kb_asked_id")
  if ctx.payload == "/helped" or (asked and sb.re.test(ctx.text, YES, "i")) then
    if asked_id then sb.kb.vote(asked_id, true) end
    ctx:set("kb_asked", nil)
    ctx:set("kb_asked_id", nil)
    ctx:set("kb_misses", 0)
    ctx:reply(ctx:pick(T.glad))
    return true
  end
  if ctx.payload == "/not_helped" or (asked and sb.re.test(ctx.text, NO, "i")) then
    if asked_id then sb.kb.vote(asked_id, false) end
    ctx:set("kb_asked", nil)
    ctx:set("kb_asked_id", nil)
    if not miss(ctx, "not_helped") then ctx:reply(ctx:pick(T.sorry)) end
    return true
  end
  return false
end

sb.intent{
  name = "kb_answer",
  priority = -100,
  handler = function(ctx)
    if feedback(ctx) then return end
    local hits = sb.kb.search(ctx.text, { locale = ctx.locale, limit = 3 })
    local top = hits[1]
    if top and top.confidence >= sb.kb.threshold then
      ctx:set("kb_asked", top.slug)
      ctx:set("kb_asked_id", top.id)
      ctx:reply{
        text = top.summary,
        links = { { title = top.title, url = top.url, article_id = top.id } },
        quick_replies = {
          { title = ctx:pick(T.yes), payload = "/helped" },
          { title = ctx:pick(T.no), payload = "/not_helped" },
          { title = ctx:pick(T.human), payload = "/human" },
        },
      }
      return
    end
    if miss(ctx, "no_answer") then return end
    local links = {}
    for _, hit in ipairs(hits) do
      if hit.confidence >= CANDIDATE_FLOOR then
        links[#links + 1] = { title = hit.title, url = hit.url, article_id = hit.id }
      end
    end
    ctx:reply{
      text = ctx:pick(#links > 0 and T.maybe or T.clarify),
      links = links,
      quick_replies = { { title = ctx:pick(T.human), payload = "/human" } },
    }
  end,
}
