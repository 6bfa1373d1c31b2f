-- The Telegram channel (Bot API, https://core.telegram.org/bots/api).
--
-- In: Telegram POSTs each Update to our webhook (setWebhook, with a
-- secret_token that comes back in X-Telegram-Bot-Api-Secret-Token), or, in
-- poll mode, we fetch them with getUpdates. Each message, edited message or
-- button press (callback_query) of a private chat becomes one sb.accept;
-- photos, documents and voice notes are fetched with getFile first. Anything
-- else is acknowledged and ignored: an answer other than 2xx makes Telegram
-- send the update again.
--
-- Out: deliver() sends our message with sendMessage (our Markdown as
-- parse_mode HTML, split at 4096 characters, quick replies as an inline
-- keyboard, links as text links), and each attachment with sendPhoto or
-- sendDocument.

local TEXT_MAX = 4096         -- sendMessage text, UTF-16 units after entities parsing
local CALLBACK_DATA_MAX = 64  -- bytes
local FILE_MAX = 20 * 1024 * 1024  -- the most getFile lets a bot download
local POLL_TIMEOUT_S = 25     -- getUpdates long poll
local UPDATES = { "message", "edited_message", "callback_query" }

-- ---------------------------------------------------------------------------
-- Calling the Bot API: POST {api_base}/bot<token>/<method>

local function api_url(method)
  return sb.config.api_base:gsub("/+$", "") .. "/bot" .. sb.config.bot_token .. "/" .. method
end

-- The answer {ok, result | error_code, description, parameters} of a
-- request (the HTTP status in .status), or nil, transport error.
local function envelope(res, err)
  if not res then return nil, err end
  local answer = sb.json.decode(res.body or "")
  if type(answer) ~= "table" then
    answer = { ok = false, error_code = res.status, description = "HTTP " .. res.status }
  end
  answer.status = res.status
  return answer
end

-- Calls a method with JSON parameters.
local function call(method, params, timeout_ms)
  return envelope(sb.http.request{
    method = "POST", url = api_url(method), body = sb.json.encode(params or {}),
    headers = { ["Content-Type"] = "application/json" }, timeout_ms = timeout_ms or 15000,
  })
end

-- A failed call as deliver's answer. 429 is flood control (retry_after);
-- 5xx and a wrong token or api_base (401, 404: fixed by the operator, then the
-- queue drains) are tried again; other 4xx (blocked by the user, chat not
-- found, bad request) will not get better.
local function failure(answer, err)
  if not answer then return nil, "telegram: " .. tostring(err) end
  local why = tostring(answer.description or ("HTTP " .. tostring(answer.status)))
  local params = type(answer.parameters) == "table" and answer.parameters or {}
  if answer.status == 429 then return nil, why, { retry_after = tonumber(params.retry_after) } end
  if answer.status >= 500 or answer.status == 401 or answer.status == 404 then return nil, why end
  return nil, why, { permanent = true }
end

-- ---------------------------------------------------------------------------
-- Text: our Markdown to Telegram's HTML, and splitting at 4096

local function escape(s)
  return (s:gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

-- **bold**, *italic*, `code`, ```pre```, [title](url). Code and links are
-- set aside first so that nothing inside them is formatted.
local function to_html(md)
  local kept = {}
  local function keep(html)
    kept[#kept + 1] = html
    return "\1" .. #kept .. "\2"
  end
  local s = md:gsub("\r\n", "\n"):gsub("[\1\2]", "")
  s = s:gsub("```%w*\n?(.-)```", function(code) return keep("<pre>" .. escape(code) .. "</pre>") end)
  s = s:gsub("`([^`\n]+)`", function(code) return keep("<code>" .. escape(code) .. "</code>") end)
  s = s:gsub("%[([^%]\n]+)%]%((https?://[^%s%)]+)%)", function(title, url)
    return keep('<a href="' .. escape(url) .. '">' .. escape(title) .. "</a>")
  end)
  s = escape(s)
  s = s:gsub("%*%*([^*\n]+)%*%*", "<b>%1</b>")
  s = s:gsub("%*([^%s*][^*\n]-)%*", "<i>%1</i>")
  return (s:gsub("\1(%d+)\2", function(i) return kept[tonumber(i)] end))
end

-- Telegram counts UTF-16 code units.
local function units(s)
  local n = 0
  for _, c in utf8.codes(s) do n = n + (c >= 0x10000 and 2 or 1) end
  return n
end

-- The byte length of the longest prefix of s that is at most `limit` units.
local function prefix_bytes(s, limit)
  local n = 0
  for pos, c in utf8.codes(s) do
    n = n + (c >= 0x10000 and 2 or 1)
    if n > limit then return pos - 1 end
  end
  return #s
end

local function last_find(s, what, from)
  local at
  local i = s:find(what, from, true)
  while i do
    at = i
    i = s:find(what, i + 1, true)
  end
  return at
end

-- Pieces of at most `limit` units, cut at a paragraph, else a line, else a
-- word in the second half of the piece. The Markdown is split before it is
-- converted, so that no tag spans two messages (the HTML shows no more
-- characters than its Markdown had).
local function split(s, limit)
  local out = {}
  while units(s) > limit do
    local head = s:sub(1, prefix_bytes(s, limit))
    local half = #head // 2
    local cut = last_find(head, "\n\n", half) or last_find(head, "\n", half) or last_find(head, " ", half)
    if cut then
      out[#out + 1] = s:sub(1, cut - 1)
      s = s:sub(cut):gsub("^%s+", "")
    else
      out[#out + 1] = head
      s = s:sub(#head + 1)
    end
  end
  if s:find("%S") then out[#out + 1] = s end
  return out
end

-- ---------------------------------------------------------------------------
-- Buttons: quick replies as an inline keyboard. callback_data holds at most
-- 64 bytes: a longer payload is kept in the store under its hash and the
-- button carries "#<hash>".

local function callback_data(payload)
  if #payload <= CALLBACK_DATA_MAX and payload:sub(1, 1) ~= "#" then return payload end
  local key = sb.crypto.hex(sb.crypto.sha256(payload)):sub(1, 32)
  if sb.store.get("cb:" .. key) == nil then sb.store.set("cb:" .. key, payload) end
  return "#" .. key
end

local function payload_of(data)
  if type(data) ~= "string" then return nil end
  if data:sub(1, 1) ~= "#" then return data end
  return sb.store.get("cb:" .. data:sub(2))
end

local function keyboard(quick_replies)
  local rows = {}
  for _, q in ipairs(quick_replies or {}) do
    rows[#rows + 1] = { { text = q.title, callback_data = callback_data(q.payload) } }
  end
  if #rows == 0 then return nil end
  return { inline_keyboard = rows }
end

-- ---------------------------------------------------------------------------
-- deliver: the parts of our message, each one Bot API call

local function text_of(msg)
  local text = msg.text or ""
  local links = {}
  for _, l in ipairs(msg.links or {}) do links[#links + 1] = "[" .. l.title .. "](" .. l.url .. ")" end
  if #links > 0 then text = (text:find("%S") and text .. "\n\n" or "") .. table.concat(links, "\n") end
  return text
end

-- Attachments go as multipart/form-data, the file in the field named after
-- the method (photo, document).
local function send_file(chat_id, a)
  local field, method = "document", "sendDocument"
  local ctype = a.content_type or "application/octet-stream"
  if ctype == "image/jpeg" or ctype == "image/png" or ctype == "image/webp" then
    field, method = "photo", "sendPhoto"
  end
  local boundary = "sb" .. sb.crypto.hex(sb.crypto.random(12))
  local name = (a.name or "file"):gsub('["\r\n\\]', "_")
  local body = table.concat{
    "--", boundary, '\r\nContent-Disposition: form-data; name="chat_id"\r\n\r\n', chat_id, "\r\n",
    "--", boundary, '\r\nContent-Disposition: form-data; name="', field, '"; filename="', name, '"\r\n',
    "Content-Type: ", ctype, "\r\n\r\n", a.data or "", "\r\n--", boundary, "--\r\n",
  }
  return envelope(sb.http.request{
    method = "POST", url = api_url(method), body = body, timeout_ms = 60000,
    headers = { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary },
  })
end

-- The message as a list of parts: the text pieces (the keyboard on the last
-- one), then the attachments.
local function plan(msg)
  local parts = {}
  for _, piece in ipairs(split(text_of(msg), TEXT_MAX)) do
    parts[#parts + 1] = { method = "sendMessage", params = {
      chat_id = msg.to, text = to_html(piece), parse_mode = "HTML",
    } }
  end
  local markup = keyboard(msg.quick_replies)
  if markup and #parts == 0 then
    parts[1] = { method = "sendMessage", params = { chat_id = msg.to, text = "…" } }
  end
  if markup then parts[#parts].params.reply_markup = markup end
  for _, a in ipairs(msg.attachments or {}) do parts[#parts + 1] = { file = a } end
  return parts
end

-- Sends the parts not sent yet: a message of several parts remembers how far
-- it got, so a retry after a failure in the middle sends nothing twice.
local function deliver(msg)
  local parts = plan(msg)
  local progress = "progress:" .. tostring(msg.id)
  local done = (#parts > 1 and sb.store.get(progress)) or 0
  local message_id
  for i = done + 1, #parts do
    local p = parts[i]
    local answer, err
    if p.file then
      answer, err = send_file(msg.to, p.file)
    else
      answer, err = call(p.method, p.params)
    end
    if not answer or answer.ok ~= true then return failure(answer, err) end
    message_id = type(answer.result) == "table" and answer.result.message_id or message_id
    if i < #parts then sb.store.set(progress, i) end
  end
  if #parts > 1 then sb.store.set(progress, nil) end
  return true, message_id and tostring(message_id) or nil
end

-- ---------------------------------------------------------------------------
-- Updates in: webhook and getUpdates share this

local function full_name(user)
  local name = table.concat({ user.first_name or "", user.last_name or "" }, " ")
  name = name:gsub("^%s+", ""):gsub("%s+$", "")
  return name ~= "" and name or nil
end

-- getFile, then GET {api_base}/file/bot<token>/<file_path>. An attachment,
-- or nil, reason.
local function download(file_id, name, ctype, size)
  if (tonumber(size) or 0) > FILE_MAX then return nil, "file too big for the Bot API" end
  local info, err = call("getFile", { file_id = file_id })
  if not info or info.ok ~= true or type(info.result) ~= "table" or type(info.result.file_path) ~= "string" then
    return nil, "getFile: " .. tostring(info and info.description or err)
  end
  local res, err2 = sb.http.request{
    method = "GET", timeout_ms = 30000,
    url = sb.config.api_base:gsub("/+$", "") .. "/file/bot" .. sb.config.bot_token .. "/" .. info.result.file_path,
  }
  if not res or res.status ~= 200 then return nil, "download: " .. tostring(res and res.status or err2) end
  return { name = name, content_type = ctype, data = res.body }
end

-- The file a message carries: photo (the largest size Telegram offers),
-- document or voice note.
local function attachment(m)
  if type(m.photo) == "table" and #m.photo > 0 then
    local best = m.photo[#m.photo]
    return download(best.file_id, "photo.jpg", "image/jpeg", best.file_size)
  end
  local d = m.document or m.voice or m.audio or m.video
  if type(d) == "table" and type(d.file_id) == "string" then
    local ctype = d.mime_type or "application/octet-stream"
    local name = d.file_name or (m.voice and "voice.ogg") or ("file." .. (ctype:match("/([%w%-%.+]+)$") or "bin"))
    return download(d.file_id, name, ctype, d.file_size)
  end
  return nil
end

local function carries_file(m)
  return m.photo or m.document or m.voice or m.audio or m.video
end

-- Who the conversation is with. A private chat is the user (chat id == user
-- id). Groups are ignored unless `groups` is set; then the group is one
-- customer and the bot answers in the group.
local function customer(chat)
  if type(chat) ~= "table" or chat.id == nil then return nil end
  if chat.type == "private" or sb.config.groups then return tostring(math.tointeger(chat.id) or chat.id) end
  return nil
end

-- A file of a type or size the core refuses is left out by sb.accept, which
-- notes it in the text: the customer's words are kept either way.
local function accept(fields)
  local id, dup_or_err = sb.accept(fields)
  if id == nil then sb.log("warn", "telegram: update refused: " .. tostring(dup_or_err)) end
  return id, dup_or_err
end

-- A message or an edited message. Its id is unique in its chat; update_id is
-- not used as the key because Telegram may restart it at a random number
-- after a week without updates.
local function on_message(m, edited)
  local from = customer(m.chat)
  if not from or type(m.from) ~= "table" or m.from.is_bot then return end
  local fields = {
    from = from, name = m.chat.type == "private" and full_name(m.from) or m.chat.title,
    locale = m.from.language_code, text = tostring(m.text or m.caption or ""),
    provider_id = "msg:" .. from .. ":" .. tostring(m.message_id),
    meta = { chat_type = m.chat.type, message_id = m.message_id, user_id = m.from.id },
  }
  if edited then
    -- an edit is a new message for us (what was sent is kept as it was)
    fields.provider_id = fields.provider_id .. ":edit:" .. tostring(m.edit_date)
    fields.text = "✏️ " .. fields.text
    fields.meta.edited = true
  end
  if type(m.location) == "table" then
    fields.text = "📍 " .. tostring(m.location.latitude) .. "," .. tostring(m.location.longitude)
  elseif m.text and m.text:match("^/start") then
    fields.payload = "/start"  -- the Start button (or a t.me/<bot>?start=<param> link)
    fields.meta.start_param = m.text:match("^/start%s+(%S+)")
  elseif carries_file(m) then
    local file, why = attachment(m)
    if file then
      fields.attachments = { file }
    else
      fields.text = (fields.text ~= "" and fields.text .. "\n" or "") .. "[attachment not fetched: " .. tostring(why) .. "]"
    end
  elseif fields.text == "" then
    sb.log("debug", "telegram: ignored a message without text (sticker, poll, contact...)")
    return
  end
  accept(fields)
end

-- A pressed inline button: its payload, and the button's title as the text.
local function on_callback(q)
  local m = type(q.message) == "table" and q.message or {}
  -- without the message (too old, or sent in inline mode) the chat is the user's
  local from = customer(m.chat or { type = "private", id = q.from.id })
  if not from then return end
  local title
  local rows = type(m.reply_markup) == "table" and m.reply_markup.inline_keyboard or {}
  for _, row in ipairs(rows) do
    for _, b in ipairs(row) do
      if b.callback_data == q.data then title = b.text end
    end
  end
  local payload = payload_of(q.data)
  accept{
    from = from, provider_id = "cbq:" .. tostring(q.id), text = title or payload or "",
    payload = payload, locale = q.from.language_code, name = full_name(q.from),
    meta = { chat_type = m.chat and m.chat.type or "private", callback_query = true },
  }
end

-- One Update. Returns the method to call in answer, if any (answerCallbackQuery).
local function on_update(u)
  if type(u.message) == "table" then
    on_message(u.message, false)
  elseif type(u.edited_message) == "table" then
    on_message(u.edited_message, true)
  elseif type(u.callback_query) == "table" and type(u.callback_query.from) == "table" then
    on_callback(u.callback_query)
    -- stops the spinner on the button; Telegram shows nothing else
    return { method = "answerCallbackQuery", callback_query_id = tostring(u.callback_query.id) }
  end
  return nil
end

local function reply(status, body, ctype)
  return { status = status, headers = { ["Content-Type"] = ctype or "text/plain" }, body = body or "" }
end

-- POST webhook. Telegram sends the secret_token given to setWebhook in
-- X-Telegram-Bot-Api-Secret-Token; without a secret_token configured the
-- webhook takes nothing (anyone could post updates to a guessable URL).
local function webhook(req)
  if sb.config.mode ~= "webhook" then return reply(403, "webhook off: mode is poll") end
  local secret = sb.config.secret_token
  if type(secret) ~= "string" or secret == "" then
    sb.log("warn", "telegram: webhook refused: set channels.telegram.secret_token")
    return reply(403, "no secret_token configured")
  end
  local got = (req.headers or {})["x-telegram-bot-api-secret-token"]
  if type(got) ~= "string" or not sb.crypto.equal(got, secret) then return reply(403, "forbidden") end
  local u = sb.json.decode(req.body or "")
  if type(u) ~= "table" then return reply(400, "not a JSON update") end
  -- an update we cannot read is acknowledged all the same: a 500 would bring it back forever
  local ok, answer = pcall(on_update, u)
  if not ok then
    sb.log("error", "telegram: update " .. tostring(u.update_id) .. " ignored: " .. tostring(answer))
    return reply(200, "")
  end
  -- A webhook's answer may carry one Bot API call: it costs no request of its own.
  if answer then return reply(200, sb.json.encode(answer), "application/json") end
  return reply(200, "")
end

-- getUpdates long poll; the offset (last update_id + 1) is kept in the store,
-- so a restart neither loses nor repeats updates (repeats are deduplicated
-- anyway). Returns false in webhook mode: there is nothing to poll.
local function poll()
  if sb.config.mode ~= "poll" then return false end
  local offset = sb.store.get("offset") or 0
  local answer, err = call("getUpdates", {
    offset = offset, timeout = POLL_TIMEOUT_S, allowed_updates = UPDATES,
  }, (POLL_TIMEOUT_S + 10) * 1000)
  if answer and answer.status == 409 then
    -- a webhook is set: poll mode is what the operator configured
    sb.log("info", "telegram: poll mode: deleting the webhook set on the bot")
    call("deleteWebhook", {})
    return true
  end
  if not answer or answer.ok ~= true or type(answer.result) ~= "table" then
    return nil, "getUpdates: " .. tostring(answer and answer.description or err)
  end
  for _, u in ipairs(answer.result) do
    if type(u) ~= "table" then u = {} end
    local ok, a = pcall(on_update, u)
    if not ok then sb.log("error", "telegram: update " .. tostring(u.update_id) .. " ignored: " .. tostring(a))
    elseif a then call(a.method, { callback_query_id = a.callback_query_id }) end
    offset = (math.tointeger(u.update_id) or offset - 1) + 1
    sb.store.set("offset", offset)
  end
  return true
end

-- switchboard channel telegram set-webhook URL
local function set_webhook(args)
  local url = args[1]
  if type(url) ~= "string" or not url:match("^https://") then
    return nil, "usage: switchboard channel telegram set-webhook https://<public host>/channels/telegram/webhook"
  end
  if type(sb.config.secret_token) ~= "string" or sb.config.secret_token == "" then
    return nil, "set channels.telegram.secret_token first: the webhook refuses updates without it"
  end
  local answer, err = call("setWebhook", { url = url, secret_token = sb.config.secret_token, allowed_updates = UPDATES })
  if not answer or answer.ok ~= true then return nil, "setWebhook: " .. tostring(answer and answer.description or err) end
  return "webhook set: " .. url
end

sb.channel{
  name = "telegram",
  settings = {
    bot_token    = { type = "string", required = true, secret = true },
    secret_token = { type = "string", secret = true },
    api_base     = { type = "string", default = "https://api.telegram.org" },
    mode         = { type = "string", default = "webhook", one_of = { "webhook", "poll" } },
    groups       = { type = "boolean", default = false },
  },
  routes = {
    { method = "POST", path = "webhook", handler = webhook },
  },
  deliver = deliver,
  poll = poll,
  commands = {
    ["set-webhook"] = set_webhook,
    ["delete-webhook"] = function()
      local answer, err = call("deleteWebhook", {})
      if not answer or answer.ok ~= true then return nil, "deleteWebhook: " .. tostring(answer and answer.description or err) end
      return "webhook deleted"
    end,
  },
}
