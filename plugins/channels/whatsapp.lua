-- The WhatsApp channel (Cloud API): Meta's webhooks in, the Graph API's
-- POST {api_base}/{phone_number_id}/messages out.
--
-- In: GET webhook is Meta's verification handshake; POST webhook carries
-- messages and statuses, signed with X-Hub-Signature-256 (HMAC-SHA256 of the
-- raw body with the app secret). Every message becomes sb.accept (media is
-- fetched through the media API first), every status of one of our messages
-- becomes sb.status. Anything else is acknowledged and ignored: an answer
-- other than 200 makes Meta resend for days.
--
-- Out: deliver() turns our message into WhatsApp messages: text (our Markdown
-- in WhatsApp's *bold* _italic_ style, split at 4096 characters, links as
-- text), quick replies as reply buttons (at most 3, titles up to 20
-- characters) or a list (at most 10 rows, titles up to 24), else as numbered
-- options that a typed "2" answers; attachments uploaded through the media
-- API; templates (the only thing Meta takes outside the 24-hour window).

local TEXT_MAX = 4096        -- text.body
local BODY_MAX = 1024        -- interactive body.text
local BUTTONS_MAX, BUTTON_TITLE_MAX = 3, 20
local ROWS_MAX, ROW_TITLE_MAX = 10, 24
local ID_MAX = 200           -- reply button and list row ids

-- Graph error codes that mean "slow down" and those worth trying again.
local RATE_LIMITED = { [4] = true, [80007] = true, [130429] = true, [131056] = true }
local TRANSIENT = { [1] = true, [2] = true, [131000] = true, [131016] = true, [133004] = true }

-- ---------------------------------------------------------------------------
-- Calling the Graph API

local function graph_url(path)
  return sb.config.api_base:gsub("/+$", "") .. "/" .. path
end

local function auth_headers(extra)
  local h = { ["Authorization"] = "Bearer " .. sb.config.access_token }
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

-- The Graph error of a response: code, "message (#code)".
local function graph_error(res)
  local body = sb.json.decode(res.body or "")
  local e = type(body) == "table" and type(body.error) == "table" and body.error or {}
  local code = math.tointeger(tonumber(e.code)) or 0
  local text = type(e.message) == "string" and e.message or ("HTTP " .. res.status)
  if code ~= 0 then text = text .. " (#" .. code .. ")" end
  return code, text
end

-- A failed call as deliver's answer: nil, reason, {retry_after} | {permanent}.
local function failure(res, err)
  if not res then return nil, "graph: " .. tostring(err) end
  local code, text = graph_error(res)
  local retry_after = tonumber((res.headers or {})["retry-after"])
  if res.status == 429 or RATE_LIMITED[code] then
    return nil, "rate limited: " .. text, { retry_after = retry_after }
  end
  if res.status >= 500 or TRANSIENT[code] then return nil, text end
  if code == 131047 then
    return nil, "outside the 24-hour window, only a template can be sent: " .. text, { permanent = true }
  end
  return nil, text, { permanent = true }
end

local function post_json(path, body)
  local res, err = sb.http.request{
    method = "POST", url = graph_url(path), body = sb.json.encode(body),
    headers = auth_headers{ ["Content-Type"] = "application/json" }, timeout_ms = 15000,
  }
  if res and res.status == 200 then
    local b = sb.json.decode(res.body)
    if type(b) == "table" then return b end
  end
  return nil, res, err
end

-- ---------------------------------------------------------------------------
-- Text: our Markdown to WhatsApp's style, and splitting

local function to_whatsapp(md)
  local s = md:gsub("\r\n", "\n")
  s = s:gsub("%[([^%]\n]+)%]%((https?://[^%s%)]+)%)", "%1 (%2)")     -- [title](url)
  s = s:gsub("%*%*(.-)%*%*", "\1%1\1"):gsub("__(.-)__", "\1%1\1")    -- bold, kept aside
  s = s:gsub("\n[*+] ", "\n- "):gsub("^[*+] ", "- ")                   -- bullets
  s = s:gsub("%*([^%s*][^*\n]-)%*", "_%1_")                            -- *italic* -> _italic_
  s = s:gsub("~~(.-)~~", "~%1~")
  s = s:gsub("\n#+%s*([^\n]+)", "\n\1%1\1"):gsub("^#+%s*([^\n]+)", "\1%1\1")  -- headings bold
  return (s:gsub("\1", "*"))
end

local function ulen(s)
  return utf8.len(s) or #s
end

-- The byte length of the first n characters of s (all of it when shorter).
local function prefix_bytes(s, n)
  local off = utf8.len(s) and utf8.offset(s, n + 1)
  if not off then return math.min(#s, n) end
  return off - 1
end

-- Splits s into pieces of at most `limit` characters, at a line break or a
-- space in the second half of the piece when there is one.
local function split(s, limit)
  local out = {}
  while ulen(s) > limit do
    local head = s:sub(1, prefix_bytes(s, limit))
    local cut = #head
    local lo = #head // 2
    for i = #head, lo, -1 do
      local c = head:sub(i, i)
      if c == "\n" or c == " " then cut = i break end
    end
    out[#out + 1] = s:sub(1, cut)
    s = s:sub(cut + 1)
  end
  if s ~= "" or #out == 0 then out[#out + 1] = s end
  return out
end

-- ---------------------------------------------------------------------------
-- What one of our messages becomes: a list of message bodies for the API

local function fits(list, max, title_max)
  if #list == 0 or #list > max then return false end
  for _, q in ipairs(list) do
    if ulen(q.title) > title_max or #q.payload > ID_MAX or q.title == "" then return false end
  end
  return true
end

local function options_key(to)
  return "options:" .. to
end

-- The plugin's store has a quota: remembering options or progress must never
-- be why a message is not delivered.
local function remember(key, value)
  if value == nil and sb.store.get(key) == nil then return end
  local ok, err = pcall(sb.store.set, key, value)
  if not ok then sb.log("warn", "whatsapp: " .. tostring(err)) end
end

local function interactive(body_text, q)
  local action, kind = {}, "button"
  if fits(q, BUTTONS_MAX, BUTTON_TITLE_MAX) then
    action.buttons = {}
    for i, r in ipairs(q) do
      action.buttons[i] = { type = "reply", reply = { id = r.payload, title = r.title } }
    end
  else
    kind = "list"
    local rows = {}
    for i, r in ipairs(q) do rows[i] = { id = r.payload, title = r.title } end
    action.button = sb.config.list_button
    action.sections = { { rows = rows } }
  end
  return { type = "interactive", interactive = { type = kind, body = { text = body_text }, action = action } }
end

local function text_parts(msg)
  local text = to_whatsapp(msg.text or "")
  local links = {}
  for _, l in ipairs(msg.links or {}) do links[#links + 1] = l.title .. ": " .. l.url end
  if #links > 0 then
    text = (text ~= "" and text .. "\n\n" or "") .. table.concat(links, "\n")
  end
  return text
end

local function media_kind(ctype)
  if ctype == "image/jpeg" or ctype == "image/png" then return "image" end
  if ctype:match("^audio/") then return "audio" end
  if ctype == "video/mp4" or ctype == "video/3gpp" then return "video" end
  return "document"
end

-- The parts, in order, each {body} or {upload=attachment}; and the numbered
-- options the customer may answer by typing a number (or nil).
local function plan(msg)
  local parts, options = {}, nil
  local text = text_parts(msg)
  local q = {}
  for _, r in ipairs(msg.quick_replies or {}) do
    if type(r.title) == "string" and type(r.payload) == "string" then q[#q + 1] = r end
  end
  local rich = #q > 0 and text ~= "" and (fits(q, BUTTONS_MAX, BUTTON_TITLE_MAX) or fits(q, ROWS_MAX, ROW_TITLE_MAX))
  if #q > 0 and not rich then
    local lines = {}
    for i, r in ipairs(q) do lines[i] = i .. ". " .. r.title end
    text = (text ~= "" and text .. "\n\n" or "") .. table.concat(lines, "\n")
    options = q
  end
  local chunks = text ~= "" and split(text, TEXT_MAX) or {}
  local last
  if rich then
    -- the options ride on the last piece, whose text is the interactive body
    local tail = table.remove(chunks)
    local more = split(tail, BODY_MAX)
    last = table.remove(more)
    for _, c in ipairs(more) do chunks[#chunks + 1] = c end
  end
  for _, c in ipairs(chunks) do
    parts[#parts + 1] = { body = { type = "text", text = { body = c, preview_url = c:find("https?://") ~= nil } } }
  end
  if rich then parts[#parts + 1] = { body = interactive(last, q) } end
  for _, a in ipairs(msg.attachments or {}) do parts[#parts + 1] = { upload = a } end
  return parts, options
end

local function template_body(t)
  local lang = t.language
  for _, c in ipairs(sb.config.templates or {}) do
    if c.name == t.name and not lang then lang = c.language end
  end
  local params = {}
  for i, p in ipairs(t.params or {}) do params[i] = { type = "text", text = tostring(p) } end
  local tpl = { name = t.name, language = { code = lang or "en_US" } }
  if #params > 0 then tpl.components = { { type = "body", parameters = params } } end
  return { type = "template", template = tpl }
end

-- Uploads one attachment; the media id or nil, res, err.
local function upload(a)
  local boundary = "sb" .. sb.crypto.hex(sb.crypto.random(12))
  local name = (a.name or "file"):gsub('["\r\n]', "_")
  local ctype = a.content_type or "application/octet-stream"
  local body = table.concat{
    "--", boundary, "\r\nContent-Disposition: form-data; name=\"messaging_product\"\r\n\r\nwhatsapp\r\n",
    "--", boundary, "\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n", ctype, "\r\n",
    "--", boundary, "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"", name, "\"\r\n",
    "Content-Type: ", ctype, "\r\n\r\n", a.data, "\r\n--", boundary, "--\r\n",
  }
  local res, err = sb.http.request{
    method = "POST", url = graph_url(sb.config.phone_number_id .. "/media"), body = body,
    headers = auth_headers{ ["Content-Type"] = "multipart/form-data; boundary=" .. boundary },
    timeout_ms = 60000,
  }
  local b = res and res.status == 200 and sb.json.decode(res.body)
  if type(b) == "table" and type(b.id) == "string" then return b.id end
  return nil, res, err
end

local function attachment_body(a, media_id)
  local kind = media_kind(a.content_type or "")
  local m = { id = media_id }
  if kind == "document" then m.filename = a.name end
  return { type = kind, [kind] = m }
end

-- Sends the parts not sent yet. A message of several parts remembers how far
-- it got (sb.store), so a retry after a failure in the middle does not send
-- the first parts twice.
local function deliver(msg)
  local parts, options
  if msg.template then
    parts = { { body = template_body(msg.template) } }
  else
    parts, options = plan(msg)
  end
  if #parts == 0 then return true end
  -- before sending: the customer may answer the moment the message arrives
  if not msg.template then remember(options_key(msg.to), options) end
  local progress = "progress:" .. tostring(msg.id)
  local done = (#parts > 1 and sb.store.get(progress)) or 0
  local last_id
  for i = done + 1, #parts do
    local p = parts[i]
    local body = p.body
    if p.upload then
      local media_id, res, err = upload(p.upload)
      if not media_id then return failure(res, err) end
      body = attachment_body(p.upload, media_id)
    end
    body.messaging_product = "whatsapp"
    body.recipient_type = "individual"
    body.to = msg.to
    local answer, res, err = post_json(sb.config.phone_number_id .. "/messages", body)
    local ids = answer and answer.messages
    if type(ids) ~= "table" or type(ids[1]) ~= "table" or type(ids[1].id) ~= "string" then
      if answer then return nil, "graph: no message id in the answer" end
      return failure(res, err)
    end
    last_id = ids[1].id
    if i < #parts then remember(progress, i) end
  end
  if #parts > 1 then remember(progress, nil) end
  return true, last_id
end

-- ---------------------------------------------------------------------------
-- Webhooks

local function answer(status, body)
  return { status = status, headers = { ["Content-Type"] = "text/plain" }, body = body or "" }
end

local function verify(req)
  local q = req.query or {}
  local want = sb.config.verify_token
  if q["hub.mode"] == "subscribe" and type(want) == "string" and want ~= ""
      and type(q["hub.verify_token"]) == "string" and sb.crypto.equal(q["hub.verify_token"], want) then
    return answer(200, q["hub.challenge"] or "")
  end
  return answer(403, "forbidden")
end

local function signed(req)
  local got = (req.headers or {})["x-hub-signature-256"]
  if type(got) ~= "string" then return false end
  local want = "sha256=" .. sb.crypto.hex(sb.crypto.hmac_sha256(sb.config.app_secret, req.body or ""))
  return sb.crypto.equal(got:lower(), want)
end

-- GET {api_base}/{media_id} -> url, then GET url (both with the token).
-- Returns an attachment, or nil, "reason", retry (true: try the webhook again later).
local function fetch_media(m)
  local meta, err = sb.http.request{ method = "GET", url = graph_url(m.id), headers = auth_headers(), timeout_ms = 10000 }
  if not meta or meta.status >= 500 or meta.status == 429 then
    return nil, "media: " .. tostring(err or meta.status), true
  end
  local info = meta.status == 200 and sb.json.decode(meta.body)
  if type(info) ~= "table" or type(info.url) ~= "string" then
    return nil, "media " .. m.id .. ": " .. select(2, graph_error(meta)), false
  end
  local res, err2 = sb.http.request{ method = "GET", url = info.url, headers = auth_headers(), timeout_ms = 30000 }
  if not res or res.status >= 500 or res.status == 429 then
    return nil, "media: " .. tostring(err2 or res.status), true
  end
  if res.status ~= 200 then return nil, "media " .. m.id .. ": HTTP " .. res.status, false end
  local ctype = m.mime_type or info.mime_type or "application/octet-stream"
  ctype = ctype:match("^[^;%s]+") or ctype
  local ext = ctype:match("/([%w%-%.+]+)$") or "bin"
  return { name = m.filename or (m.id .. "." .. ext), content_type = ctype, data = res.body }
end

local MEDIA = { image = true, document = true, audio = true, video = true, sticker = true }

-- A typed number answering the numbered options we last sent this customer.
local function typed_option(from, text)
  local n = math.tointeger(tonumber(text:match("^%s*(%d+)%s*%.?%s*$") or ""))
  if not n then return nil end
  local options = sb.store.get(options_key(from))
  local o = type(options) == "table" and options[n]
  return o and o.payload or nil
end

-- One message of the webhook -> sb.accept. Returns false when the webhook
-- should be tried again later (media the provider could not give us now).
local function accept_message(m, names)
  local kind = m.type
  local msg = {
    from = m.from, provider_id = m.id, name = names[m.from], text = "",
    meta = { wa_type = kind, timestamp = m.timestamp, context = type(m.context) == "table" and m.context.id or nil },
  }
  if kind == "text" and type(m.text) == "table" then
    msg.text = tostring(m.text.body or "")
    msg.payload = typed_option(m.from, msg.text)
  elseif kind == "interactive" and type(m.interactive) == "table" then
    local r = m.interactive.button_reply or m.interactive.list_reply
    if type(r) ~= "table" then return true end
    msg.text, msg.payload = tostring(r.title or ""), tostring(r.id or "")
  elseif kind == "button" and type(m.button) == "table" then   -- a template's quick-reply button
    msg.text, msg.payload = tostring(m.button.text or ""), tostring(m.button.payload or "")
  elseif MEDIA[kind] and type(m[kind]) == "table" and type(m[kind].id) == "string" then
    local att, why, retry = fetch_media(m[kind])
    if not att then
      if retry then return false end
      sb.log("warn", "whatsapp: " .. why)
      msg.meta.media_error = why
      msg.text = "[" .. kind .. "]"
    else
      msg.attachments = { att }
    end
    if m[kind].caption then msg.text = tostring(m[kind].caption) end
  elseif kind == "location" and type(m.location) == "table" then
    local l = m.location
    local place = table.concat({ l.name or "", l.address or "" }, " "):gsub("^%s+", ""):gsub("%s+$", "")
    msg.text = (place ~= "" and place .. " " or "") .. "(" .. tostring(l.latitude) .. ", " .. tostring(l.longitude) .. ")"
  else
    sb.log("info", "whatsapp: ignored a message of type " .. tostring(kind))
    return true
  end
  -- a file the core does not take (type, size) is left out with a note
  local id, err = sb.accept(msg)
  if not id then sb.log("warn", "whatsapp: message " .. tostring(m.id) .. " refused: " .. tostring(err)) end
  return true
end

local STATUS = { delivered = "delivered", read = "read", failed = "failed" }

local function accept_status(s)
  local st = STATUS[s.status]
  if not st or type(s.id) ~= "string" then return end   -- "sent", "deleted", ...
  local reason
  if st == "failed" and type(s.errors) == "table" and type(s.errors[1]) == "table" then
    local e = s.errors[1]
    reason = tostring(e.title or e.message or "failed") .. " (#" .. tostring(e.code) .. ")"
  end
  sb.status{ provider_id = s.id, status = st, reason = reason or (st == "failed" and "failed" or nil) }
end

local function webhook(req)
  if not signed(req) then return answer(403, "bad signature") end
  local body = sb.json.decode(req.body or "")
  if type(body) ~= "table" or type(body.entry) ~= "table" then return answer(200, "ignored") end
  local again = false
  for _, entry in ipairs(body.entry) do
    for _, change in ipairs(type(entry) == "table" and type(entry.changes) == "table" and entry.changes or {}) do
      local v = type(change) == "table" and change.value
      if type(v) == "table" and (change.field == nil or change.field == "messages") then
        local names = {}
        for _, c in ipairs(type(v.contacts) == "table" and v.contacts or {}) do
          if type(c) == "table" and type(c.profile) == "table" and type(c.wa_id) == "string" then
            names[c.wa_id] = c.profile.name
          end
        end
        for _, m in ipairs(type(v.messages) == "table" and v.messages or {}) do
          if type(m) == "table" and type(m.from) == "string" and type(m.id) == "string" then
            if not accept_message(m, names) then again = true end
          end
        end
        for _, s in ipairs(type(v.statuses) == "table" and v.statuses or {}) do
          if type(s) == "table" then accept_status(s) end
        end
      end
    end
  end
  -- Meta sends the whole webhook again: what was accepted is deduplicated
  if again then return answer(503, "media not available yet") end
  return answer(200, "ok")
end

sb.channel{
  name = "whatsapp",
  settings = {
    phone_number_id = { type = "string", required = true },
    access_token    = { type = "string", required = true, secret = true },
    app_secret      = { type = "string", required = true, secret = true },
    verify_token    = { type = "string", secret = true },
    api_base        = { type = "string", default = "https://graph.facebook.com/v21.0" },
    -- the approved templates agents may send outside the 24-hour window:
    -- [{"name": "order_update", "language": "en_US", "text": "Hi {{1}}, ..."}]
    -- (no default: an empty Lua table would be an object)
    templates       = { type = "array" },
    list_button     = { type = "string", default = "Options" },  -- the list's button label
  },
  routes = {
    { method = "GET", path = "webhook", handler = verify },
    { method = "POST", path = "webhook", handler = webhook },
  },
  deliver = deliver,
  window_s = 86400,
}
