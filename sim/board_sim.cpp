// board_sim: the simulated board. npu_top runs in Verilator with its UART pins
// bridged, through the UartSim line model, to a pseudo-terminal, so that the host
// talks to it exactly as to a USB serial port:
//
//   board_sim [--trace FILE.fst] [--ber P] [--ber-out P] [--seed N] [--max-idle S]
//             [--watch-stdin] [--link PATH] [--quiet] [+verilator+args]
//
// The first line on stdout is the slave path of the pty (/dev/pts/N). The board then
// serves until SIGINT/SIGTERM, until stdin reaches end of file (--watch-stdin: the
// parent that started it went away), or after S seconds without a byte in either
// direction (--max-idle). It simulates only while something happens (a byte in
// flight on either line, or the design not idle) and otherwise sleeps in poll(), so an
// idle board costs no CPU. Statistics go to stderr on exit; SIGUSR1 prints the cycles
// simulated so far ("board_sim: cycles N"), the board's clock for measurements.
//
// Built with -DNPU_BOARD_ICEBREAKER or -DNPU_BOARD_HX8K, the simulated design is that
// board's top (rtl/boards/, with the SB_PLL40 stand-ins of sim/ice40/) instead of
// npu_top: the bitstream's own pins, clock, reset synchroniser and UART rate. The
// board top's `unused_idle` net (npu_top's idle_o, unconnected on the board) is read
// through Verilator's public_flat_rd so that an idle board still sleeps. With
// -DNPU_NETLIST as well, the design is that top's synthesised cell netlist
// (host/board/netlist.ts); it has no idle net, so that board simulates without pause.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#if defined(NPU_BOARD_ICEBREAKER) && defined(NPU_NETLIST)
#include "Vnpu_board_icebreaker.h"
using Top = Vnpu_board_icebreaker;
#elif defined(NPU_BOARD_HX8K) && defined(NPU_NETLIST)
#include "Vnpu_board_hx8k.h"
using Top = Vnpu_board_hx8k;
#elif defined(NPU_BOARD_ICEBREAKER)
#include "Vnpu_board_icebreaker.h"
#include "Vnpu_board_icebreaker___024root.h"
using Top = Vnpu_board_icebreaker;
#define NPU_BOARD_IDLE(t) ((t)->rootp->npu_board_icebreaker__DOT__unused_idle)
#elif defined(NPU_BOARD_HX8K)
#include "Vnpu_board_hx8k.h"
#include "Vnpu_board_hx8k___024root.h"
using Top = Vnpu_board_hx8k;
#define NPU_BOARD_IDLE(t) ((t)->rootp->npu_board_hx8k__DOT__unused_idle)
#else
#include "Vnpu_top.h"
using Top = Vnpu_top;
#endif
#include "uartsim.h"
#include "verilated.h"
#if VM_TRACE
#include "verilated_fst_c.h"
#endif

#ifndef NPU_CLKS_PER_BIT
#error "build with -DNPU_CLKS_PER_BIT=<the ClksPerBit parameter of npu_top>"
#endif

namespace {
#if defined(NPU_NETLIST)
bool design_idle(Top &) { return false; }  // the netlist has no idle net: always simulate
#elif defined(NPU_BOARD_IDLE)
bool design_idle(Top &t) { return NPU_BOARD_IDLE(&t) != 0; }
#else
bool design_idle(Top &t) { return t.idle_o != 0; }
#endif
#if defined(NPU_BOARD_ICEBREAKER)
void hold_reset(Top &t, bool on) { t.btn_ni = on ? 0 : 1; }  // BTN_N, active low
#elif defined(NPU_BOARD_HX8K)
void hold_reset(Top &, bool) {}  // no button: reset comes from the PLL's lock
#else
void hold_reset(Top &t, bool on) { t.rst_ni = on ? 0 : 1; }
#endif
}  // namespace

namespace {

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_report = 0;
void on_signal(int) { g_stop = 1; }
void on_report(int) { g_report = 1; }

struct Options {
  std::string trace, link;
  double ber = 0.0;
  double ber_out = -1.0;  // the design-to-host line's own rate (default: --ber)
  uint64_t seed = 1;
  double max_idle = 0.0;
  bool watch_stdin = false;
  bool quiet = false;
};

[[noreturn]] void usage(const char *msg) {
  std::fprintf(stderr,
               "board_sim: %s\nusage: board_sim [--trace FILE.fst] [--ber P] [--ber-out P] [--seed N] "
               "[--max-idle SECONDS] [--watch-stdin] [--link PATH] [--quiet]\n",
               msg);
  std::exit(1);
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--trace") o.trace = value();
    else if (a == "--ber") o.ber = std::atof(value().c_str());
    else if (a == "--ber-out") o.ber_out = std::atof(value().c_str());
    else if (a == "--seed") o.seed = std::strtoull(value().c_str(), nullptr, 0);
    else if (a == "--max-idle") o.max_idle = std::atof(value().c_str());
    else if (a == "--watch-stdin") o.watch_stdin = true;
    else if (a == "--link") o.link = value();
    else if (a == "--quiet") o.quiet = true;
    else if (a[0] == '+') continue;  // Verilator's own +args
    else usage(("unknown option " + a).c_str());
  }
  if (o.ber < 0.0 || o.ber > 0.5) usage("--ber must be in [0, 0.5]");
  if (o.ber_out > 0.5) usage("--ber-out must be in [0, 0.5]");
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char **argv) {
  const Options opt = parse(argc, argv);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  struct sigaction sr {};
  sr.sa_handler = on_report;
  sigaction(SIGUSR1, &sr, nullptr);
  signal(SIGPIPE, SIG_IGN);
  if (opt.watch_stdin) prctl(PR_SET_PDEATHSIG, SIGTERM);  // belt and braces

  // The pseudo-terminal. We keep a slave descriptor open ourselves so that the master
  // never sees a hang-up between hosts: a host may close the port and a new one open it.
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    std::perror("board_sim: cannot create a pseudo-terminal");
    return 2;
  }
  const std::string slave_path = ptsname(master);
  int slave = open(slave_path.c_str(), O_RDWR | O_NOCTTY);
  if (slave < 0) {
    std::perror("board_sim: cannot open the pty slave");
    return 2;
  }
  termios tio{};
  tcgetattr(slave, &tio);
  cfmakeraw(&tio);
  tcsetattr(slave, TCSANOW, &tio);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  if (!opt.link.empty()) {
    unlink(opt.link.c_str());
    if (symlink(slave_path.c_str(), opt.link.c_str()) != 0) std::perror("board_sim: --link");
  }
  std::printf("%s\n", slave_path.c_str());
  std::fflush(stdout);

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto top = std::make_unique<Top>(ctx.get(), "top");
#if VM_TRACE
  std::unique_ptr<VerilatedFstC> tfp;
  if (!opt.trace.empty()) {
    ctx->traceEverOn(true);
    tfp = std::make_unique<VerilatedFstC>();
    top->trace(tfp.get(), 99);
    tfp->open(opt.trace.c_str());
  }
#else
  if (!opt.trace.empty()) usage("--trace needs a build with --trace-fst");
#endif

  UartSim uart(NPU_CLKS_PER_BIT, opt.ber, opt.seed);
  if (opt.ber_out >= 0.0) uart.set_ber_out(opt.ber_out);
  int rx_level = 1;
  uint64_t cycles = 0;
  auto tick = [&]() {
    top->uart_rx_i = rx_level;
    top->clk_i = 0;
    top->eval();
    ctx->timeInc(1);
#if VM_TRACE
    if (tfp) tfp->dump(ctx->time());
#endif
    top->clk_i = 1;
    top->eval();
    ctx->timeInc(1);
#if VM_TRACE
    if (tfp) tfp->dump(ctx->time());
#endif
    rx_level = uart.tick(top->uart_tx_o);
    ++cycles;
  };

  hold_reset(*top, true);
  for (int i = 0; i < 8; ++i) tick();
  hold_reset(*top, false);
  for (int i = 0; i < 64; ++i) tick();  // a board top: PLL lock, then the reset synchroniser

  // Bytes decoded from the design wait here until the pty takes them; past the cap they
  // are dropped, as a UART overruns when nobody reads it.
  constexpr size_t OutCap = 1 << 20;
  constexpr uint64_t PollEvery = 1024;  // cycles between pty checks while simulating
  std::vector<uint8_t> out;
  uint8_t buf[4096];
  auto start = std::chrono::steady_clock::now();
  auto last_byte = start;
  double active_s = 0.0;
  uint64_t active_cycles = 0, dropped = 0;
  const char *why = "interrupted";

  while (!g_stop && !ctx->gotFinish()) {
    if (g_report) {  // SIGUSR1: the simulated time so far, for measurements (nnfpga bench)
      g_report = 0;
      std::fprintf(stderr, "board_sim: cycles %llu\n", static_cast<unsigned long long>(cycles));
      std::fflush(stderr);
    }
    const bool active = !design_idle(*top) || uart.busy();
    // ---- service the pty (and stdin): block only when the design has nothing to do
    pollfd fds[2] = {{master, static_cast<short>(POLLIN | (out.empty() ? 0 : POLLOUT)), 0},
                     {0, POLLIN, 0}};
    const int nfds = opt.watch_stdin ? 2 : 1;
    const int rc = poll(fds, nfds, active ? 0 : 100);
    if (rc < 0 && errno != EINTR) {
      std::perror("board_sim: poll");
      break;
    }
    if (rc > 0) {
      if ((fds[0].revents & POLLIN) && uart.tx_backlog() < sizeof buf) {
        const ssize_t n = read(master, buf, sizeof buf);
        if (n > 0) {
          uart.send(buf, static_cast<size_t>(n));
          last_byte = std::chrono::steady_clock::now();
        }
      }
      if (!out.empty() && (fds[0].revents & POLLOUT)) {
        const ssize_t n = write(master, out.data(), out.size());
        if (n > 0) out.erase(out.begin(), out.begin() + n);
      }
      if (opt.watch_stdin && (fds[1].revents & (POLLIN | POLLHUP))) {
        const ssize_t n = read(0, buf, sizeof buf);
        if (n <= 0) {
          why = "stdin closed";
          break;
        }
      }
    }
    if (opt.max_idle > 0 && !active && seconds_since(last_byte) > opt.max_idle) {
      why = "idle";
      break;
    }
    if (!active && !(uart.tx_backlog() > 0)) continue;

    // ---- simulate a slice
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < PollEvery; ++i) {
      tick();
      if (design_idle(*top) && !uart.busy()) break;
    }
    uint8_t b;
    bool got = false;
    while (uart.recv(b)) {
      if (out.size() < OutCap) out.push_back(b);
      else ++dropped;
      got = true;
    }
    if (got) {
      last_byte = std::chrono::steady_clock::now();
      const ssize_t n = write(master, out.data(), out.size());
      if (n > 0) out.erase(out.begin(), out.begin() + n);
    }
    active_s += seconds_since(t0);
    active_cycles = cycles;
  }

  top->final();
#if VM_TRACE
  if (tfp) tfp->close();
#endif
  if (!opt.link.empty()) unlink(opt.link.c_str());
  if (!opt.quiet) {
    std::fprintf(stderr,
                 "board_sim: stopped (%s): %llu cycles, %.0f cycles/s while active, %llu bytes in, "
                 "%llu bytes out, %llu bits flipped, %llu framing errors, %llu bytes dropped\n",
                 why, static_cast<unsigned long long>(cycles),
                 active_s > 0 ? static_cast<double>(active_cycles) / active_s : 0.0,
                 static_cast<unsigned long long>(uart.bytes_sent()),
                 static_cast<unsigned long long>(uart.bytes_received()),
                 static_cast<unsigned long long>(uart.bits_flipped()),
                 static_cast<unsigned long long>(uart.framing_errors()),
                 static_cast<unsigned long long>(dropped));
  }
  close(slave);
  close(master);
  return 0;
}
