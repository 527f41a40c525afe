package io.sluice.admin;

/** One admin answer: status, body and its media type. */
record Answer(int status, String body, String type) {
    static Answer json(int status, String body) {
        return new Answer(status, body, "application/json");
    }

    static Answer error(int status, String message) {
        return json(status, "{\"error\":" + Json.quote(message) + "}\n");
    }
}
