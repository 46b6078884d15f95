//! A loopback proxy that passes signalling (TCP) through untouched and
//! voice (UDP, on the same port) through a seeded lossy, jittery path
//! (`voix-audio`'s network model), both ways.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use voix_audio::netsim::{NetworkModel, NetworkSim};

/// How often blocked threads look at the stop flag.
const POLL: Duration = Duration::from_millis(50);

/// A datagram waiting for its arrival time.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    due: Instant,
    order: u64,
    data: Vec<u8>,
    /// `None`: to the server (through the client's upstream socket).
    to_client: Option<SocketAddr>,
    from_client: SocketAddr,
}

#[derive(Debug, Default)]
struct Queue {
    heap: Mutex<BinaryHeap<Reverse<Pending>>>,
    ready: Condvar,
}

/// Counters of what the path did.
#[derive(Debug, Default)]
pub struct PathStats {
    /// Datagrams that entered the path.
    pub sent: AtomicU64,
    /// Datagrams the path dropped.
    pub lost: AtomicU64,
}

/// The running proxy; its threads stop when it is dropped.
#[derive(Debug)]
pub struct LossyProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// What the voice path did.
    pub stats: Arc<PathStats>,
}

impl LossyProxy {
    /// A proxy in front of `server`, whose voice path follows `model`
    /// (seeded with `seed`, and `seed + 1` for the way back).
    pub fn start(server: SocketAddr, model: NetworkModel, seed: u64) -> Self {
        let (listener, front) = bind_pair();
        let addr = listener.local_addr().expect("bound");
        listener.set_nonblocking(true).expect("nonblocking");
        front.set_read_timeout(Some(POLL)).expect("timeout");
        let front = Arc::new(front);
        let stop = Arc::new(AtomicBool::new(false));
        let queue = Arc::new(Queue::default());
        let stats = Arc::new(PathStats::default());
        let epoch = Instant::now();
        let up_sim = Arc::new(Mutex::new(NetworkSim::new(model, seed)));
        let down_sim = Arc::new(Mutex::new(NetworkSim::new(model, seed + 1)));
        let upstreams: Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>> = Arc::default();
        let order = Arc::new(AtomicU64::new(0));
        let schedule = {
            let (queue, stats, order) =
                (Arc::clone(&queue), Arc::clone(&stats), Arc::clone(&order));
            move |sim: &Mutex<NetworkSim>,
                  data: Vec<u8>,
                  to_client: Option<SocketAddr>,
                  from_client: SocketAddr| {
                let now = Instant::now();
                let fate = sim.lock().expect("not poisoned").send(now - epoch);
                stats.sent.fetch_add(1, Ordering::Relaxed);
                let mut any = false;
                for transit in fate.arrivals() {
                    any = true;
                    let pending = Pending {
                        due: now + transit,
                        order: order.fetch_add(1, Ordering::Relaxed),
                        data: data.clone(),
                        to_client,
                        from_client,
                    };
                    queue.heap.lock().expect("not poisoned").push(Reverse(pending));
                }
                if any {
                    queue.ready.notify_one();
                } else {
                    stats.lost.fetch_add(1, Ordering::Relaxed);
                }
            }
        };
        let mut threads = Vec::new();
        // Signalling: accept and splice each connection to the server.
        {
            let stop = Arc::clone(&stop);
            threads.push(thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => splice(client, server),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(POLL),
                        Err(_) => break,
                    }
                }
            }));
        }
        // Voice from clients: into the path towards the server; each client
        // gets its own upstream socket, whose replies come back through the
        // path the other way.
        {
            let (stop, front, upstreams, schedule) =
                (Arc::clone(&stop), Arc::clone(&front), Arc::clone(&upstreams), schedule.clone());
            let down_sim = Arc::clone(&down_sim);
            threads.push(thread::spawn(move || {
                let mut buf = [0u8; 2048];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, client)) = front.recv_from(&mut buf) else { continue };
                    let known = upstreams.lock().expect("not poisoned").contains_key(&client);
                    if !known {
                        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").expect("bind"));
                        socket.connect(server).expect("connect");
                        socket.set_read_timeout(Some(POLL)).expect("timeout");
                        upstreams.lock().expect("not poisoned").insert(client, Arc::clone(&socket));
                        let (stop, schedule, down_sim) =
                            (Arc::clone(&stop), schedule.clone(), Arc::clone(&down_sim));
                        thread::spawn(move || {
                            let mut buf = [0u8; 2048];
                            while !stop.load(Ordering::Relaxed) {
                                if let Ok(n) = socket.recv(&mut buf) {
                                    schedule(&down_sim, buf[..n].to_vec(), Some(client), client);
                                }
                            }
                        });
                    }
                    schedule(&up_sim, buf[..n].to_vec(), None, client);
                }
            }));
        }
        // The path: sends each datagram when it is due.
        {
            let (stop, queue, front, upstreams) =
                (Arc::clone(&stop), Arc::clone(&queue), Arc::clone(&front), Arc::clone(&upstreams));
            threads.push(thread::spawn(move || {
                let mut heap = queue.heap.lock().expect("not poisoned");
                while !stop.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    let wait = match heap.peek() {
                        Some(Reverse(next)) if next.due <= now => {
                            let Some(Reverse(next)) = heap.pop() else { continue };
                            match next.to_client {
                                Some(client) => {
                                    let _ = front.send_to(&next.data, client);
                                }
                                None => {
                                    let socket = upstreams
                                        .lock()
                                        .expect("not poisoned")
                                        .get(&next.from_client)
                                        .cloned();
                                    if let Some(socket) = socket {
                                        let _ = socket.send(&next.data);
                                    }
                                }
                            }
                            continue;
                        }
                        Some(Reverse(next)) => (next.due - now).min(POLL),
                        None => POLL,
                    };
                    heap = queue.ready.wait_timeout(heap, wait).expect("not poisoned").0;
                }
            }));
        }
        Self { addr, stop, threads, stats }
    }

    /// Where clients connect (TCP and UDP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for LossyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A TCP listener and a UDP socket on the same loopback port.
fn bind_pair() -> (TcpListener, UdpSocket) {
    for _ in 0..20 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("bound").port();
        if let Ok(udp) = UdpSocket::bind(("127.0.0.1", port)) {
            return (listener, udp);
        }
    }
    panic!("no loopback port free for both TCP and UDP");
}

/// Copies bytes both ways between `client` and a new connection to
/// `server`, until either side closes.
fn splice(client: TcpStream, server: SocketAddr) {
    let Ok(upstream) = TcpStream::connect(server) else { return };
    let _ = client.set_nonblocking(false);
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    for (mut from, mut to) in [
        (client.try_clone().expect("clone"), upstream.try_clone().expect("clone")),
        (upstream, client),
    ] {
        thread::spawn(move || {
            let _ = io::copy(&mut from, &mut to);
            let _ = to.shutdown(std::net::Shutdown::Write);
        });
    }
}
