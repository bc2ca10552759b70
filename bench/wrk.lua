-- wrk.lua: rotate over the request paths in the file named by the first script argument (one per line, already
-- percent-encoded). The requests are formatted once in init(), with the -H headers, so the client spends no time on
-- them while the server is timed.
local reqs = {}
local i = 0

function init(args)
    for line in io.lines(args[1]) do
        if line ~= "" then
            reqs[#reqs + 1] = wrk.format(nil, line)
        end
    end
    if #reqs == 0 then
        error("no request paths in " .. tostring(args[1]))
    end
end

function request()
    i = i % #reqs + 1
    return reqs[i]
end
