-- The soak's uploads (soak.py): POST /upload with a 40 KiB body by Content-Length, more than one read of the
-- raw front's body buffer (16 KiB, doubling), through server kills and reloads.
wrk.method = "POST"
wrk.body = string.rep("u", 40 * 1024)
wrk.headers["Content-Type"] = "application/octet-stream"
