-- http_post's requests (compare.py): POST /post with a 1 KiB body, as an API client sends JSON.
wrk.method = "POST"
wrk.body = string.rep("x", 1024)
wrk.headers["Content-Type"] = "application/json"
