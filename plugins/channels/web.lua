-- The web channel: the chat widget and any HTTP client of the customer API.
-- inbound() turns the posted JSON body into a normalised message; the core
-- has already checked size, encoding and the visitor token, and checks
-- that each attachment id belongs to the conversation.
-- deliver() has nothing to send: browsers read replies from the HTTP answer
-- and from the conversation's event stream.

local function optional_string(body, key)
  local v = body[key]
  if v == nil or v == sb.json.null then return true, nil end
  if type(v) ~= "string" then return false, key .. " must be a string" end
  return true, v
end

-- "attachments": ["att_...", ...] -> a list of ids, or nil when absent/empty.
local function attachment_ids(body)
  local v = body.attachments
  if v == nil or v == sb.json.null then return true, nil end
  if type(v) ~= "table" then return false, "attachments must be an array of attachment ids" end
  local list = {}
  for k in pairs(v) do
    if math.type(k) ~= "integer" then
      return false, "attachments must be an array of attachment ids"
    end
  end
  for i, id in ipairs(v) do
    if type(id) ~= "string" then
      return false, "attachments[" .. (i - 1) .. "] must be a string"
    end
    list[i] = id
  end
  if #list == 0 then return true, nil end
  return true, list
end

sb.channel{
  name = "web",

  inbound = function(req)
    local body = req.body
    local ok, attachments = attachment_ids(body)
    if not ok then return nil, attachments end
    local text = body.text
    -- with attachments the text may be left out or empty
    if (text == nil or text == sb.json.null) and attachments then text = "" end
    if type(text) ~= "string" then
      return nil, "text must be a string"
    end
    local msg = { text = text, attachments = attachments }
    for _, key in ipairs{ "client_id", "payload", "locale" } do
      local ok2, v = optional_string(body, key)
      if not ok2 then return nil, v end
      msg[key] = v
    end
    return msg
  end,

  deliver = function(msg)
    return true
  end,
}
