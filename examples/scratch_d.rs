use std::hint::black_box;
use std::time::Instant;
use wechatpay::notify::Event;
fn main() {
    let t = std::fs::read_to_string("tests/interop/transaction.json").unwrap();
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(20000);
    for _ in 0..3 {
        let s = Instant::now();
        for _ in 0..n { black_box(Event::parse("TRANSACTION.SUCCESS", black_box(t.as_bytes())).unwrap()); }
        println!("Event::parse {:.0} ns", s.elapsed().as_secs_f64() * 1e9 / n as f64);
        let s = Instant::now();
        for _ in 0..n { black_box(serde_json::from_slice::<serde_json::Value>(black_box(t.as_bytes())).unwrap()); }
        println!("serde_json::Value {:.0} ns", s.elapsed().as_secs_f64() * 1e9 / n as f64);
    }
}
