-- The web channel: the chat widget and any HTTP client of the customer API.
-- inbound() turns the posted JSON body into a normalised message; the core
-- has already checked size, encoding and the visitor token.
-- deliver() has nothing to send: browsers read replies from the HTTP answer
-- and from the conversation's event stream.

local function optional_string(body, key)
  local v = body[key]
  if v == nil or v == sb.json.null then return true, nil end
  if type(v) ~= "string" then return false, key .. " must be a string" end
  return true, v
end

sb.channel{
  name = "web",

  inbound = function(req)
    local body = req.body
    if type(body.text) ~= "string" then
      return nil, "text must be a string"
    end
    local msg = { text = body.text }
    for _, key in ipairs{ "client_id", "payload", "locale" } do
      local ok, v = optional_string(body, key)
      if not ok then return nil, v end
      msg[key] = v
    end
    return msg
  end,

  deliver = function(msg)
    return true
  end,
}
