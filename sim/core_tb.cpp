// Verilator bench of npu_core: drives the host port (docs/ARCHITECTURE.md section 5)
// from a binary command file and writes what it reads back to a binary result file.
//
//   core_tb CMDS OUT [+timeout=CYCLES] [+trace=FILE.fst|FILE.vcd]
//                    [+trace_from=C +trace_cycles=N] [+trace_scopes=SCOPE:LEVELS,...]
//
// CMDS is a sequence of little-endian u32 records:
//   1 space addr count word*count    WRITE through the bus, one request per word
//   2                                RUN: pulse start_i, wait for done_o -> OUT gets cycles
//   3 space addr count               READ through the bus -> OUT gets count words
//   4 n                              RUN, and abort_i after n cycles unless done_o came
//                                    first -> OUT gets {cycles to done_o or n, cycles
//                                    from abort_i to busy_o low (0 if it ended itself)}
// A RUN that does not finish within the timeout (default 200,000,000 cycles per run), or
// an abort that does not bring busy_o low within 1,000 cycles, prints a message and
// exits with status 3. On success a summary line goes to stderr:
// "core_tb: <cycles> cycles in <s> s (<rate> cycles/s)". Tracing needs a build with
// trace enabled (host/sim/verilator.ts: FST, or VCD when built with NNFPGA_TRACE_VCD)
// and +trace=FILE. A window (+trace_from, +trace_cycles: clock cycles counted from the
// first RUN's start pulse) dumps only those cycles; +trace_scopes limits the dump to
// scopes ($dumpvars-style: TOP.npu_core.u_array:99 is the array and everything below).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>
#include "Vnpu_core.h"
#include "verilated.h"
#if defined(NNFPGA_TRACE_VCD)
#include "verilated_vcd_c.h"
using TraceFile = VerilatedVcdC;
#elif defined(NNFPGA_TRACE)
#include "verilated_fst_c.h"
using TraceFile = VerilatedFstC;
#endif

namespace {

struct Bench {
  std::unique_ptr<VerilatedContext> ctx;
  std::unique_ptr<Vnpu_core> top;
#ifdef NNFPGA_TRACE
  std::unique_ptr<TraceFile> tfp;
#endif
  uint64_t cycles = 0;
  // trace window, in cycles from the first RUN's start pulse (windowed: nothing before it)
  bool windowed = false;
  uint64_t runStart = UINT64_MAX;
  uint64_t traceFrom = 0, traceCycles = 0;

  bool dumping() const {
    if (!windowed) return true;
    if (runStart == UINT64_MAX || cycles < runStart) return false;
    const uint64_t c = cycles - runStart;
    return c >= traceFrom && c < traceFrom + traceCycles;
  }

  void tick() {
    top->clk_i = 0;
    top->eval();
#ifdef NNFPGA_TRACE
    const bool d = tfp && dumping();
    if (d) tfp->dump(ctx->time());
#endif
    ctx->timeInc(1);
    top->clk_i = 1;
    top->eval();
#ifdef NNFPGA_TRACE
    if (d) tfp->dump(ctx->time());
#endif
    ctx->timeInc(1);
    cycles++;
  }

  uint32_t bus(bool we, uint32_t space, uint32_t addr, uint32_t wdata) {
    top->bus_req_i = 1;
    top->bus_we_i = we;
    top->bus_space_i = space;
    top->bus_addr_i = addr;
    top->bus_wdata_i = wdata;
    tick();
    top->bus_req_i = 0;
    for (int i = 0; i < 64; i++) {
      top->clk_i = 0;
      top->eval();
      if (top->bus_ack_o) {
        const uint32_t r = top->bus_rdata_o;
        tick();
        return r;
      }
      tick();
    }
    std::fprintf(stderr, "core_tb: no bus_ack_o within 64 cycles (space %u addr %u)\n", space, addr);
    std::exit(3);
  }
};

bool readFile(const char* path, std::vector<uint32_t>& out) {
  FILE* f = std::fopen(path, "rb");
  if (!f) return false;
  std::fseek(f, 0, SEEK_END);
  const long n = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  out.resize(n / 4);
  const size_t got = std::fread(out.data(), 4, out.size(), f);
  std::fclose(f);
  return got == out.size();
}

}  // namespace

int main(int argc, char** argv) {
  Bench b;
  b.ctx = std::make_unique<VerilatedContext>();
  b.ctx->commandArgs(argc, argv);
  b.top = std::make_unique<Vnpu_core>(b.ctx.get());
  if (argc < 3) {
    std::fprintf(stderr, "usage: core_tb CMDS OUT [+timeout=CYCLES] [+trace=FILE] [+trace_from=C +trace_cycles=N]\n");
    return 2;
  }
  uint64_t timeout = 200000000ULL;
  if (const char* t = b.ctx->commandArgsPlusMatch("timeout=")) {
    if (*t) timeout = std::strtoull(t + std::strlen("+timeout="), nullptr, 10);
  }
  // (commandArgsPlusMatch returns a buffer that its next call overwrites: copy)
  const std::string traceArg = b.ctx->commandArgsPlusMatch("trace=");
  if (!traceArg.empty()) {
#ifdef NNFPGA_TRACE
    b.ctx->traceEverOn(true);
    b.tfp = std::make_unique<TraceFile>();
    b.top->trace(b.tfp.get(), 99);
    const std::string w = b.ctx->commandArgsPlusMatch("trace_cycles=");
    if (!w.empty()) {
      b.windowed = true;
      b.traceCycles = std::strtoull(w.c_str() + std::strlen("+trace_cycles="), nullptr, 10);
      const std::string f = b.ctx->commandArgsPlusMatch("trace_from=");
      if (!f.empty()) b.traceFrom = std::strtoull(f.c_str() + std::strlen("+trace_from="), nullptr, 10);
    }
    const std::string sc = b.ctx->commandArgsPlusMatch("trace_scopes=");
    if (!sc.empty()) {
      // SCOPE:LEVELS,SCOPE:LEVELS,...
      const std::string list = sc.substr(std::strlen("+trace_scopes="));
      size_t at = 0;
      while (at < list.size()) {
        size_t end = list.find(',', at);
        if (end == std::string::npos) end = list.size();
        const std::string item = list.substr(at, end - at);
        const size_t colon = item.rfind(':');
        if (colon != std::string::npos)
          b.tfp->dumpvars(std::atoi(item.c_str() + colon + 1), item.substr(0, colon));
        at = end + 1;
      }
    }
    b.tfp->open(traceArg.c_str() + std::strlen("+trace="));
#else
    std::fprintf(stderr, "core_tb: +trace given but this build has no tracing (NNFPGA_TRACE=1)\n");
#endif
  }
  std::vector<uint32_t> cmds;
  if (!readFile(argv[1], cmds)) {
    std::fprintf(stderr, "core_tb: cannot read %s\n", argv[1]);
    return 2;
  }
  std::vector<uint32_t> out;

  // A real falling edge on rst_ni (the asynchronous resets react to the edge).
  b.top->start_i = 0;
  b.top->abort_i = 0;
  b.top->bus_req_i = 0;
  b.top->rst_ni = 1;
  b.top->clk_i = 0;
  b.top->eval();
  b.top->rst_ni = 0;
  for (int i = 0; i < 4; i++) b.tick();
  b.top->rst_ni = 1;
  b.tick();

  const auto t0 = std::chrono::steady_clock::now();
  uint64_t runCycles = 0;
  size_t i = 0;
  while (i < cmds.size() && !b.ctx->gotFinish()) {
    const uint32_t op = cmds[i++];
    if (op == 1 || op == 3) {
      if (i + 3 > cmds.size()) break;
      const uint32_t space = cmds[i], addr = cmds[i + 1], count = cmds[i + 2];
      i += 3;
      for (uint32_t k = 0; k < count; k++) {
        if (op == 1) b.bus(true, space, addr + k, cmds[i++]);
        else out.push_back(b.bus(false, space, addr + k, 0));
      }
    } else if (op == 2) {
      if (b.runStart == UINT64_MAX) b.runStart = b.cycles;
      b.top->start_i = 1;
      b.tick();
      b.top->start_i = 0;
      uint64_t n = 1;
      while (true) {
        b.top->clk_i = 0;
        b.top->eval();
        if (b.top->done_o) break;
        if (n >= timeout) {
          std::fprintf(stderr, "core_tb: timeout: done_o not seen within %llu cycles\n",
                       static_cast<unsigned long long>(timeout));
          return 3;
        }
        b.tick();
        n++;
      }
      b.tick();
      runCycles += n;
      out.push_back(static_cast<uint32_t>(n));
    } else if (op == 4) {
      if (i + 1 > cmds.size()) break;
      const uint64_t limit = cmds[i++];
      b.top->start_i = 1;
      b.tick();
      b.top->start_i = 0;
      uint64_t n = 1;
      bool done = false;
      while (n < limit) {
        b.top->clk_i = 0;
        b.top->eval();
        if (b.top->done_o) {
          done = true;
          break;
        }
        b.tick();
        n++;
      }
      uint32_t toIdle = 0;
      if (done) {
        b.tick();
      } else {
        b.top->abort_i = 1;
        b.tick();
        b.top->abort_i = 0;
        toIdle = 1;
        while (true) {
          b.top->clk_i = 0;
          b.top->eval();
          if (!b.top->busy_o) break;
          if (b.top->done_o) {
            std::fprintf(stderr, "core_tb: done_o after abort_i\n");
            return 3;
          }
          if (toIdle >= 1000) {
            std::fprintf(stderr, "core_tb: busy_o still high 1000 cycles after abort_i\n");
            return 3;
          }
          b.tick();
          toIdle++;
        }
      }
      runCycles += n + toIdle;
      out.push_back(static_cast<uint32_t>(n));
      out.push_back(toIdle);
    } else {
      std::fprintf(stderr, "core_tb: bad command %u at word %zu\n", op, i - 1);
      return 2;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  b.top->final();
#ifdef NNFPGA_TRACE
  if (b.tfp) b.tfp->close();
#endif
  FILE* f = std::fopen(argv[2], "wb");
  if (!f || std::fwrite(out.data(), 4, out.size(), f) != out.size()) {
    std::fprintf(stderr, "core_tb: cannot write %s\n", argv[2]);
    return 2;
  }
  std::fclose(f);
  std::fprintf(stderr, "core_tb: %llu cycles (%llu in runs) in %.3f s (%.0f cycles/s)\n",
               static_cast<unsigned long long>(b.cycles), static_cast<unsigned long long>(runCycles), secs,
               secs > 0 ? b.cycles / secs : 0.0);
  return 0;
}
