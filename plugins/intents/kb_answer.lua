-- The knowledge-base answer: the last intent, it always answers or hands off.
--   best hit at or above its threshold  -> the article's summary, a link to its help page,
--                                          and "did this help?" quick replies
--   best hits at or above sb.kb.clarify_threshold
--                                       -> "did you mean one of these?": up to 3 of them as
--                                          quick replies (payload /article:<id>, which answers
--                                          with that article); counts as a miss
--   nothing at the clarify threshold    -> out of scope: hand off at once ("out_of_scope")
--   nothing to search for ("?", "...")  -> ask to rephrase; counts as a miss
--   a second miss, or two "no, that didn't help" -> hand off to a person
-- The decision is the engine's own, sb_kb_decide() in kb/kb_learn.c, which sb.kb.search
-- returns and "try a question" reports; this file only words it.
-- State lives in conversation attributes, never in Lua globals.

local MISSES_BEFORE_HANDOFF = 2
local MAX_CHOICES = 3
local CHOICE = [[^/article:([0-9]{1,18})$]]

-- What the bot says comes from the locale catalogues (web/locales, ctx:t).

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
    ctx:reply(ctx:t("bot.kb.glad"))
    return true
  end
  if ctx.payload == "/not_helped" or (asked and sb.re.test(ctx.text, NO, "i")) then
    if asked_id then sb.kb.vote(asked_id, false) end
    ctx:set("kb_asked", nil)
    ctx:set("kb_asked_id", nil)
    if not miss(ctx, "not_helped") then ctx:reply(ctx:t("bot.kb.sorry")) end
    return true
  end
  return false
end

-- The article's summary, its help page, and "did this help?".
local function answer(ctx, hit)
  ctx:set("kb_asked", hit.slug)
  ctx:set("kb_asked_id", hit.id)
  ctx:reply{
    text = hit.summary,
    links = { { title = hit.title, url = hit.url, article_id = hit.id } },
    quick_replies = {
      { title = ctx:t("bot.kb.yes"), payload = "/helped" },
      { title = ctx:t("bot.kb.no"), payload = "/not_helped" },
      { title = ctx:t("bot.kb.human"), payload = "/human" },
    },
  }
end

-- A tapped "did you mean" choice: the article, or nil for a stale one.
local function chosen(ctx)
  if not ctx.payload then return nil end
  local _, id = sb.re.match(ctx.payload, CHOICE)
  return id and sb.kb.choose(tonumber(id)) or nil
end

sb.intent{
  name = "kb_answer",
  priority = -100,
  handler = function(ctx)
    if feedback(ctx) then return end
    local hit = chosen(ctx)
    if hit then return answer(ctx, hit) end

    -- The engine decides (sb_kb_decide in kb_learn.c), so the bot and the
    -- editor's "try a question" never disagree.
    local hits, _, decision, nchoices =
      sb.kb.search(ctx.text, { locale = ctx.locale, limit = MAX_CHOICES })
    if decision == "answer" then return answer(ctx, hits[1]) end
    -- Words that match nothing well enough: not something the articles cover.
    if decision == "handoff" then return ctx:handoff{ reason = "out_of_scope" } end

    -- "clarify": the choices it named, or none when there was nothing to search for.
    local choices = {}
    for i = 1, nchoices do
      choices[i] = { title = hits[i].title, payload = "/article:" .. hits[i].id }
    end

    -- The last answer's "did this help?" is over: a new question came.
    ctx:set("kb_asked", nil)
    ctx:set("kb_asked_id", nil)
    if miss(ctx, "no_answer") then return end
    choices[#choices + 1] = { title = ctx:t("bot.kb.human"), payload = "/human" }
    ctx:reply{ text = ctx:t(#choices > 1 and "bot.kb.maybe" or "bot.kb.clarify"), quick_replies = choices }
  end,
}
