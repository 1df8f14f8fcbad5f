//! Performs one TCP exchange on the loopback interface, for `fixtures/capture.sh` to record
//! with tcpdump: `cargo run --example loopback -- SCENARIO PORT`.
//!
//! Scenarios: classic, client-close, server-close, refused, reset (by the client),
//! server-reset, half-close, ipv6, reuse, self-connect, fast-open (needs `sysctl net.ipv4.tcp_fastopen=0x403`, which
//! `fixtures/capture.sh` sets for it).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use socket2::{Domain, Socket, Type};

const GREETING: &[u8] = b"I'm TCP client";
const PAUSE: Duration = Duration::from_millis(50);

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(scenario), Some(port)) =
        (args.get(1), args.get(2).and_then(|p| p.parse::<u16>().ok()))
    else {
        eprintln!("usage: loopback SCENARIO PORT");
        std::process::exit(2);
    };
    let v4: SocketAddr = ([127, 0, 0, 1], port).into();
    match scenario.as_str() {
        // Linux server reads once and closes first; the client closes 50 ms later.
        "classic" => exchange(v4, ServerCloses::AfterRead, None),
        "ipv6" => exchange(
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)),
            ServerCloses::AfterRead,
            None,
        ),
        // The client closes first; the server closes when it reads end-of-file.
        "client-close" => exchange(v4, ServerCloses::AtEof, None),
        // The server sends a line and closes; the client closes when it reads end-of-file.
        "server-close" => server_close(v4),
        "refused" => {
            for _ in 0..2 {
                let refused = TcpStream::connect(v4).is_err();
                assert!(refused, "something listens on {v4}");
            }
            Ok(())
        }
        // SO_LINGER of zero: close sends RST instead of FIN.
        "reset" => {
            let listener = TcpListener::bind(v4)?;
            let server = thread::spawn(move || -> std::io::Result<()> {
                let (mut conn, _) = listener.accept()?;
                let mut buf = [0u8; 64];
                let _ = conn.read(&mut buf)?;
                thread::sleep(PAUSE * 2);
                Ok(())
            });
            let client = Socket::new(Domain::IPV4, Type::STREAM, None)?;
            client.connect(&v4.into())?;
            let mut client: TcpStream = client.into();
            client.write_all(GREETING)?;
            thread::sleep(PAUSE);
            socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO))?;
            drop(client);
            server.join().expect("server thread")?;
            Ok(())
        }
        // The classic exchange, but the server aborts (SO_LINGER 0) instead of closing.
        "server-reset" => {
            let listener = TcpListener::bind(v4)?;
            let server = thread::spawn(move || -> std::io::Result<()> {
                let (mut conn, _) = listener.accept()?;
                let mut buf = [0u8; 64];
                let _ = conn.read(&mut buf)?;
                socket2::SockRef::from(&conn).set_linger(Some(Duration::ZERO))?;
                Ok(())
            });
            let mut client = TcpStream::connect(v4)?;
            client.write_all(GREETING)?;
            server.join().expect("server thread")?;
            thread::sleep(PAUSE);
            drop(client);
            Ok(())
        }
        // The client half-closes after its request; the server answers after the FIN.
        "half-close" => {
            let listener = TcpListener::bind(v4)?;
            let server = thread::spawn(move || -> std::io::Result<()> {
                let (mut conn, _) = listener.accept()?;
                let mut request = Vec::new();
                conn.read_to_end(&mut request)?;
                thread::sleep(PAUSE);
                conn.write_all(b"reply after your FIN")?;
                thread::sleep(PAUSE);
                Ok(())
            });
            let mut client = TcpStream::connect(v4)?;
            client.write_all(GREETING)?;
            client.shutdown(Shutdown::Write)?;
            let mut reply = Vec::new();
            client.read_to_end(&mut reply)?;
            server.join().expect("server thread")?;
            Ok(())
        }
        // Three connections from the same client port: the server closes first each time, so
        // the client may reuse the 4-tuple while the server holds it in TIME-WAIT.
        "reuse" => {
            let listener = TcpListener::bind(v4)?;
            let server = thread::spawn(move || -> std::io::Result<()> {
                for _ in 0..3 {
                    let (mut conn, _) = listener.accept()?;
                    conn.write_all(b"hi\n")?;
                }
                Ok(())
            });
            for _ in 0..3 {
                let client = Socket::new(Domain::IPV4, Type::STREAM, None)?;
                client.set_reuse_address(true)?;
                client.bind(&SocketAddr::from(([127, 0, 0, 1], port + 1)).into())?;
                client.connect(&v4.into())?;
                let mut client: TcpStream = client.into();
                let mut buf = Vec::new();
                client.read_to_end(&mut buf)?;
                drop(client);
                thread::sleep(PAUSE * 4);
            }
            server.join().expect("server thread")?;
            Ok(())
        }
        // A socket connected to itself: bound to the port it connects to, it opens
        // simultaneously with itself (RFC 9293 §3.5), echoes its own bytes, then closes.
        "self-connect" => {
            let sock = Socket::new(Domain::IPV4, Type::STREAM, None)?;
            sock.set_reuse_address(true)?;
            sock.bind(&v4.into())?;
            sock.connect(&v4.into())?;
            let mut stream: TcpStream = sock.into();
            stream.write_all(b"me")?;
            let mut buf = [0u8; 2];
            stream.read_exact(&mut buf)?;
            thread::sleep(PAUSE);
            drop(stream);
            Ok(())
        }
        // TCP Fast Open (RFC 7413): the first connection asks for a cookie in its SYN and
        // sends its request after the handshake; the second sends the request in its SYN,
        // with the cookie, and the SYN-ACK acknowledges it.
        "fast-open" => {
            const MSG_FASTOPEN: i32 = 0x2000_0000;
            let listener = TcpListener::bind(v4)?;
            let server = thread::spawn(move || -> std::io::Result<()> {
                for _ in 0..2 {
                    let (mut conn, _) = listener.accept()?;
                    let mut request = Vec::new();
                    conn.read_to_end(&mut request)?;
                    conn.write_all(b"reply")?;
                }
                Ok(())
            });
            for _ in 0..2 {
                let client = Socket::new(Domain::IPV4, Type::STREAM, None)?;
                // Connects and sends in one call: in the SYN once a cookie is cached.
                client.send_to_with_flags(GREETING, &v4.into(), MSG_FASTOPEN)?;
                let mut client: TcpStream = client.into();
                client.shutdown(Shutdown::Write)?;
                let mut reply = Vec::new();
                client.read_to_end(&mut reply)?;
                drop(client);
                thread::sleep(PAUSE);
            }
            server.join().expect("server thread")?;
            Ok(())
        }
        other => {
            eprintln!("unknown scenario {other}");
            std::process::exit(2);
        }
    }
}

#[derive(Clone, Copy)]
enum ServerCloses {
    AfterRead,
    AtEof,
}

fn exchange(addr: SocketAddr, closes: ServerCloses, _: Option<()>) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    let server = thread::spawn(move || -> std::io::Result<()> {
        let (mut conn, _) = listener.accept()?;
        match closes {
            ServerCloses::AfterRead => {
                let mut buf = [0u8; 1024];
                let _ = conn.read(&mut buf)?;
            }
            ServerCloses::AtEof => {
                let mut all = Vec::new();
                conn.read_to_end(&mut all)?;
                thread::sleep(PAUSE);
            }
        }
        Ok(())
    });
    let mut client = TcpStream::connect(addr)?;
    client.write_all(GREETING)?;
    if let ServerCloses::AfterRead = closes {
        thread::sleep(PAUSE);
    }
    drop(client);
    server.join().expect("server thread")?;
    thread::sleep(PAUSE);
    Ok(())
}

fn server_close(addr: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    let server = thread::spawn(move || -> std::io::Result<()> {
        let (mut conn, _) = listener.accept()?;
        conn.write_all(b"hello from the server\n")?;
        Ok(())
    });
    let mut client = TcpStream::connect(addr)?;
    let mut got = Vec::new();
    client.read_to_end(&mut got)?;
    thread::sleep(PAUSE);
    drop(client);
    server.join().expect("server thread")?;
    Ok(())
}
