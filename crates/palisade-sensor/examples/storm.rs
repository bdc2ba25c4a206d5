//! Load generator for bench/sensor.sh: storms of the events the sensor watches, either as fast as
//! possible (to measure the wall time the sensor adds) or paced at a target rate (to measure its
//! CPU and drops at that rate).
//!
//! ```text
//! storm exec|open|open-read|connect|mixed|node COUNT [EVENTS_PER_SECOND]
//! ```
//! `exec` spawns `/bin/true`; `open` opens (creating) a file for writing under a temporary
//! directory and writes a byte: the worst case, since every write open is reported to user space
//! by design; `open-read` opens one of 64 existing files of that directory read-only, reads it
//! and closes it: the common case (compilers, interpreters, find), which the kernel filter drops
//! because no sensitive prefix matches, so it generates no sensor event; `connect` connects
//! to a loopback listener and accepts; `mixed` cycles through all three; `node` is a blend
//! weighted towards opens and connects, closer to a busy node than `mixed` (whose exec share no
//! 2-core machine can sustain at 50,000 events/s).
//!
//! COUNT is the number of operations. The rate is in *sensor events* per second, because that is
//! what the targets are stated in: one operation is several kernel events (exec = fork + exec +
//! exit, connect = connect + the listener's accept, open = one open). Prints
//! `ops=<n> events=<expected sensor events> seconds=<wall> cpu=<user + system, with children>`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
enum Op {
    Exec,
    Open,
    OpenRead,
    Connect,
}

impl Op {
    /// Kernel events the sensor reports for one operation.
    fn sensor_events(self) -> u64 {
        match self {
            Op::Exec => 3,
            Op::Open => 1,
            Op::OpenRead => 0,
            Op::Connect => 2,
        }
    }
}

/// `node`: per 200 operations, 1 exec, 159 opens and 40 connects (3 + 159 + 80 = 242 events),
/// so 50,000 events/s means about 200 execs/s, 33,000 opens/s and 8,300 connects/s.
const NODE_CYCLE: [Op; 200] = {
    let mut cycle = [Op::Open; 200];
    let mut i = 0;
    while i < 40 {
        cycle[4 + i * 5] = Op::Connect;
        i += 1;
    }
    cycle[0] = Op::Exec;
    cycle
};

/// How far ahead of schedule the paced storm may get before it sleeps: sleeping after every
/// operation would cost a syscall per event and overshoot by the timer slack each time, so it
/// runs in bursts of at most this long instead (a few hundred events, nothing for the ring).
const PACE_SLACK: Duration = Duration::from_millis(2);

fn op_for(kind: &str, index: u64) -> Option<Op> {
    match kind {
        "exec" => Some(Op::Exec),
        "open" => Some(Op::Open),
        "open-read" => Some(Op::OpenRead),
        "connect" => Some(Op::Connect),
        "mixed" => Some([Op::Exec, Op::Open, Op::Connect][(index % 3) as usize]),
        "node" => NODE_CYCLE
            .get((index % NODE_CYCLE.len() as u64) as usize)
            .copied(),
        _ => None,
    }
}

fn run_op(
    op: Op,
    dir: &Path,
    index: u64,
    listener: &TcpListener,
    port: u16,
) -> std::io::Result<()> {
    match op {
        Op::Exec => {
            // Output and input detached so a chatty terminal does not time the storm.
            let status = Command::new("/bin/true")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()?;
            if status.success() {
                Ok(())
            } else {
                Err(std::io::Error::other(format!("/bin/true: {status}")))
            }
        }
        Op::Open => {
            let path = dir.join(format!("f{}", index % 64));
            // No O_TRUNC: truncating a file with data costs a journal transaction on ext4
            // (~250 µs here), which would time the file system rather than the open.
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .and_then(|mut f| f.write_all(b"x"))
        }
        Op::OpenRead => {
            let mut content = [0u8; 64];
            std::fs::File::open(dir.join(format!("r{}", index % 64)))
                .and_then(|mut f| f.read(&mut content))
                .map(|_| ())
        }
        Op::Connect => {
            // Accepted here rather than by a thread: on a loaded machine an accept thread gets
            // starved, the backlog fills, and a dropped SYN costs a 1 s retransmit.
            let client = TcpStream::connect(("127.0.0.1", port))?;
            let (server, _) = listener.accept()?;
            close_with_reset(client);
            drop(server);
            Ok(())
        }
    }
}

/// User + system time of this process (or of its waited-for children: the execs), which other
/// work on a loaded machine disturbs far less than the wall time.
fn cpu_seconds(who: libc::c_int) -> f64 {
    // SAFETY: an all-zero `rusage` is a valid value, and getrusage only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `struct rusage`.
    if unsafe { libc::getrusage(who, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Closes with a reset instead of a FIN: tens of thousands of connects otherwise leave as many
/// TIME_WAIT sockets, and the kernel's search for a free local port slows every later connect
/// (to milliseconds each), which would time the port search rather than the sensor.
fn close_with_reset(stream: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor is open for the duration of the call and `linger` is a valid
    // `struct linger` of the size passed. A failure only means a normal close.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(kind), Some(count)) = (args.get(1), args.get(2).and_then(|c| c.parse::<u64>().ok()))
    else {
        eprintln!("usage: storm exec|open|open-read|connect|mixed|node COUNT [EVENTS_PER_SECOND]");
        return ExitCode::from(2);
    };
    if op_for(kind, 0).is_none() {
        eprintln!("storm: unknown kind `{kind}` (exec, open, open-read, connect, mixed or node)");
        return ExitCode::from(2);
    }
    let rate = match args.get(3) {
        None => None,
        Some(r) => match r.parse::<f64>() {
            Ok(r) if r.is_finite() && r > 0.0 => Some(r),
            _ => {
                eprintln!("storm: the rate must be a positive number of events per second");
                return ExitCode::from(2);
            }
        },
    };
    let dir = std::env::temp_dir().join(format!("palisade-storm-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("storm: cannot create {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    // The files `open-read` reads exist before the clock starts: it times opens of existing files.
    for n in 0..64 {
        if let Err(e) = std::fs::write(dir.join(format!("r{n}")), b"palisade storm\n") {
            eprintln!("storm: cannot create {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("storm: cannot listen on loopback: {e}");
            return ExitCode::from(2);
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);

    let start = Instant::now();
    let mut done = 0u64;
    let mut events = 0u64;
    let mut failure = None;
    while done < count {
        let Some(op) = op_for(kind, done) else { break };
        if let Err(e) = run_op(op, &dir, done, &listener, port) {
            failure = Some(format!("operation #{done} failed: {e}"));
            break;
        }
        done += 1;
        events += op.sensor_events();
        if let Some(rate) = rate {
            let due = Duration::from_secs_f64(events as f64 / rate);
            if let Some(ahead) = due.checked_sub(start.elapsed())
                && ahead >= PACE_SLACK
            {
                std::thread::sleep(ahead);
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "ops={done} events={events} seconds={seconds:.3} cpu={:.3}",
        cpu_seconds(libc::RUSAGE_SELF) + cpu_seconds(libc::RUSAGE_CHILDREN)
    );
    if let Some(rate) = rate {
        let achieved = events as f64 / seconds.max(1e-9);
        // The script reads this: a paced run that fell behind measured a lower rate than asked.
        if achieved < rate * 0.95 {
            eprintln!("storm: asked {rate:.0} events/s, achieved only {achieved:.0}");
        }
    }
    match failure {
        Some(message) => {
            eprintln!("storm: {message}");
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    }
}
