//! What the router answers outside the happy paths: all problem+json, never a panic.

use crate::helpers::*;

#[tokio::test]
async fn unknown_paths_are_404_problems() {
    let app = spawn_app().await;
    for path in [
        "/api/nope",
        "/api/health/",
        "/api",
        "/api/token",
        "/api/token/validate/x",
        "/favicon.ico",
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        problem(response, 404, "not_found").await;
    }
}

#[tokio::test]
async fn wrong_methods_are_405_problems_with_allow() {
    let app = spawn_app().await;
    let cases = [
        (reqwest::Method::POST, "/api/health", "GET"),
        (reqwest::Method::DELETE, "/api/health", "GET"),
        (reqwest::Method::GET, "/api/token/validate", "POST"),
        (reqwest::Method::PUT, "/api/token/validate", "POST"),
    ];
    for (method, path, allow) in cases {
        let response = app
            .http
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        problem(response, 405, "method_not_allowed").await;
    }
}

#[tokio::test]
async fn bodies_over_64_kib_are_413_problems() {
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();
    let response = app
        .http
        .post(app.url("/api/token/validate"))
        .bearer_auth(&token)
        .body(vec![b'x'; 64 * 1024 + 1])
        .send()
        .await
        .unwrap();
    problem(response, 413, "payload_too_large").await;

    let at_limit = app
        .http
        .post(app.url("/api/token/validate"))
        .bearer_auth(&token)
        .body(vec![b'x'; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(at_limit.status(), 200);
}

#[tokio::test]
async fn a_malformed_content_length_is_a_400_problem() {
    // Sent by hand: HTTP clients refuse to write a broken header.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nhost: x\r\ncontent-length: 12abc\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await
    .unwrap()
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    // hyper refuses the framing itself; either way the client gets a 400 and the server lives.
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let after = app.http.get(app.url("/api/health")).send().await.unwrap();
    assert_eq!(after.status(), 200);
}

#[tokio::test]
async fn a_body_that_trickles_in_is_answered_408_instead_of_held_open() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // Arrange: the body limit in time is shortened; a client announces 200 bytes, sends 10.
    let app = spawn_app_with(|config| {
        config.tuning.body_read_timeout = std::time::Duration::from_millis(300);
    })
    .await;
    let token = app.field_worker_token().sign();
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/notifications/chat HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{{\"message\"",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();

    // Act: read whatever the handler answers, with a bound far above the limit.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;

    // Assert: 408 as problem+json, and the connection closed, with no Graph call made.
    assert!(read.is_ok(), "the handler held the connection open");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(app.graph.requests().is_empty());
}

#[tokio::test]
async fn a_chunked_body_over_64_kib_is_refused_while_it_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // No Content-Length to refuse up front: the limit must hold while the chunks arrive.
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/notifications/chat HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 8 * 1024];
    for _ in 0..9 {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if stream.write_all(&frame).await.is_err() {
            break; // the handler answered and closed before the end: that is the point
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;

    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    assert!(app.graph.requests().is_empty());
}
