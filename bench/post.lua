-- wrk script: the same request as POST (for /api/token/validate with one repeated token).
wrk.method = "POST"
