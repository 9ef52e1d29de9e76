// board_top_tb: a board top (rtl/boards/npu_board_*.v) in Verilator, with the
// behavioural SB_PLL40 stand-ins of sim/ice40/, talked to over its UART pins through
// the UartSim line model: reset from the button/PLL lock, IDENTIFY, a WRITE and READ
// back at the far end of WMEM and AMEM, the status LEDs, and recovery: a program that runs
// for millions of cycles (and one the controller of today never ends) is stopped by
// RESET within a second of the board's clock, after which IDENTIFY answers.
//   board_top_tb [+verilator+args]
// Built with -DNPU_BOARD_ICEBREAKER or -DNPU_BOARD_HX8K and -DNPU_CLKS_PER_BIT=N.
// Prints one "ok"/"FAIL" line per check and, last, the IDENTIFY fields as one JSON line;
// exit status 0 when every check passes.
#include "test_programs.h"
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "uartsim.h"
#include "verilated.h"

#if defined(NPU_BOARD_ICEBREAKER)
#include "Vnpu_board_icebreaker.h"
using Top = Vnpu_board_icebreaker;
#elif defined(NPU_BOARD_HX8K)
#include "Vnpu_board_hx8k.h"
using Top = Vnpu_board_hx8k;
#else
#error "build with -DNPU_BOARD_ICEBREAKER or -DNPU_BOARD_HX8K"
#endif

#ifndef NPU_CLKS_PER_BIT
#error "build with -DNPU_CLKS_PER_BIT=<ClockHz / Baud of the board>"
#endif

namespace {

using Bytes = std::vector<uint8_t>;

uint16_t crc16(const uint8_t *p, size_t n) {  // CRC-16/CCITT-FALSE (ARCHITECTURE section 6)
  uint16_t crc = 0xFFFF;
  for (size_t i = 0; i < n; ++i) {
    crc ^= static_cast<uint16_t>(p[i] << 8);
    for (int b = 0; b < 8; ++b)
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
  }
  return crc;
}

uint32_t get32(const Bytes &b, size_t at) {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (static_cast<uint32_t>(b[at + 3]) << 24);
}
void put32(Bytes &b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

struct Reply {
  bool ok = false;
  uint8_t cmd = 0, status = 0xFF;
  Bytes body;  // payload after the status byte
};

class Bench {
 public:
  Bench(int argc, char **argv) : ctx_(new VerilatedContext), uart_(NPU_CLKS_PER_BIT) {
    ctx_->commandArgs(argc, argv);
    top_.reset(new Top{ctx_.get()});
    top_->uart_rx_i = 1;
#if defined(NPU_BOARD_ICEBREAKER)
    top_->btn_ni = 0;  // hold the button for a while: reset
    for (int i = 0; i < 50; ++i) tick();
    top_->btn_ni = 1;
#endif
  }
  ~Bench() { top_->final(); }

  void tick() {
    top_->clk_i = 0;
    top_->eval();
    top_->clk_i = 1;
    top_->eval();
    top_->uart_rx_i = uart_.tick(top_->uart_tx_o);
    ++cycles_;
  }
  void run(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) tick();
  }
  Top &top() { return *top_; }

  // Sends a request frame; returns its seq.
  uint8_t send(uint8_t cmd, const Bytes &payload) {
    const uint8_t seq = ++seq_;
    Bytes f = {0xA5, cmd, seq, static_cast<uint8_t>(payload.size()), static_cast<uint8_t>(payload.size() >> 8)};
    f.insert(f.end(), payload.begin(), payload.end());
    const uint16_t c = crc16(f.data() + 1, f.size() - 1);
    f.push_back(c & 0xFF);
    f.push_back(c >> 8);
    uart_.send(f);
    return seq;
  }
  // Collects bytes until a whole, CRC-clean reply frame to seq is in, or max_cycles pass.
  Reply reply(uint8_t seq, uint64_t max_cycles = 20000ull * NPU_CLKS_PER_BIT) {
    Reply r;
    const uint64_t limit = cycles_ + max_cycles;
    while (cycles_ < limit && !ctx_->gotFinish()) {
      tick();
      uint8_t b;
      while (uart_.recv(b)) rx_.push_back(b);
      while (!rx_.empty() && rx_[0] != 0xA5) rx_.erase(rx_.begin());
      if (rx_.size() < 5) continue;
      const size_t len = rx_[3] | (rx_[4] << 8);
      if (rx_.size() < 7 + len) continue;
      const uint16_t got = rx_[5 + len] | (rx_[6 + len] << 8);
      const bool mine = rx_[2] == seq;
      r.ok = got == crc16(rx_.data() + 1, 4 + len) && mine && len >= 1;
      r.cmd = rx_[1];
      r.status = rx_[5];
      r.body.assign(rx_.begin() + 6, rx_.begin() + 5 + len);
      rx_.erase(rx_.begin(), rx_.begin() + 7 + len);
      if (mine) return r;
      r = Reply();
    }
    return r;
  }
  Reply request(uint8_t cmd, const Bytes &payload) { return reply(send(cmd, payload)); }
  uint64_t cycles() const { return cycles_; }

 private:
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Top> top_;
  UartSim uart_;
  Bytes rx_;
  uint64_t cycles_ = 0;
  uint8_t seq_ = 0;
};

int failures = 0;
void check(bool cond, const std::string &what) {
  std::printf("%s %s\n", cond ? "ok  " : "FAIL", what.c_str());
  if (!cond) ++failures;
}

// READ of `count` words of a space; false when the request fails.
bool read_words(Bench &tb, uint8_t space, uint32_t addr, size_t count, std::vector<uint32_t> &out) {
  Bytes r = {space};
  put32(r, addr);
  r.push_back(static_cast<uint8_t>(count));
  r.push_back(0);
  const Reply rd = tb.request(0x03, r);
  if (!rd.ok || rd.status != 0 || rd.body.size() != 4 * count) return false;
  out.clear();
  for (size_t i = 0; i < count; ++i) out.push_back(get32(rd.body, 4 * i));
  return true;
}

// WRITE `words` to a space, then READ them back from `read_space` at `read_addr`.
bool write_read_at(Bench &tb, uint8_t space, uint32_t addr, const std::vector<uint32_t> &words, uint8_t read_space,
                   uint32_t read_addr) {
  Bytes w = {space};
  put32(w, addr);
  for (uint32_t v : words) put32(w, v);
  const Reply wr = tb.request(0x02, w);
  std::vector<uint32_t> got;
  return wr.ok && wr.status == 0 && read_words(tb, read_space, read_addr, words.size(), got) && got == words;
}

bool write_read(Bench &tb, uint8_t space, uint32_t addr, const std::vector<uint32_t> &words) {
  return write_read_at(tb, space, addr, words, space, addr);
}

// A DMEM WRITE payload of a program (sim/test_programs.h).
Bytes dmem_write(const std::vector<uint32_t> &program) {
  Bytes w = {2};  // DMEM
  put32(w, 0);
  for (uint32_t v : program) put32(w, v);
  return w;
}

}  // namespace

int main(int argc, char **argv) {
  Bench tb(argc, argv);
  tb.run(200);  // PLL lock and reset release

#if defined(NPU_BOARD_ICEBREAKER)
  check(tb.top().led_green_no == 0, "green LED on after reset (active low)");
  check(tb.top().led_red_no == 1, "red LED off while idle");
#else
  check((tb.top().led_o & 0x11) == 0x11, "LEDs: alive and PLL locked");
  check((tb.top().led_o & 0x0C) == 0, "LEDs: not busy, no dropped frame");
#endif

  const Reply id = tb.request(0x01, {});
  check(id.ok && id.cmd == 0x81 && id.status == 0 && id.body.size() == 41,
        "IDENTIFY over the board's UART pins");
  if (!id.ok || id.body.size() < 41) {
    std::printf("{\"ok\":false}\n");
    return 1;
  }
  const unsigned dim = id.body[1], acc_depth = id.body[2] | (id.body[3] << 8);
  const uint32_t amem = get32(id.body, 4), wmem = get32(id.body, 8), dmem = get32(id.body, 12);
  const uint32_t amem_ext = get32(id.body, 37);  // AMEM words past amem, in WMEM's upper half
  const uint32_t clock_hz = get32(id.body, 20);
  const unsigned cpb = id.body[24] | (id.body[25] << 8), max_payload = id.body[26] | (id.body[27] << 8);
  check(cpb == NPU_CLKS_PER_BIT, "IDENTIFY reports the board's clocks per bit");

  check(write_read(tb, 1, wmem - 3, {0xDEADBEEF, 0x01234567, 0x89ABCDEF}), "WRITE/READ the last words of WMEM");
  check(write_read(tb, 0, amem - 2, {0xCAFEF00D, 0x5A5AA5A5}), "WRITE/READ the last words of AMEM's own RAM");
  if (amem_ext > 0) {
    // AMEM word a >= amem of the extension is WMEM's upper-half word half + a mod half (Dim 4)
    const uint32_t half = wmem / 2, last = amem + amem_ext - 2;
    check(write_read(tb, 0, amem, {0x0BADCAFE}) && write_read(tb, 0, last, {0x76543210, 0xFEDCBA98}),
          "WRITE/READ the first and last words of the AMEM extension");
    check(write_read_at(tb, 0, amem, {0x600DF00D}, 1, half + amem % half) &&
              write_read_at(tb, 1, half + last % half, {0x13579BDF, 0x2468ACE0}, 0, last),
          "the AMEM extension's words are WMEM's upper half");
    std::vector<uint32_t> own, low;
    check(read_words(tb, 0, amem - 2, 2, own) && own == std::vector<uint32_t>{0xCAFEF00D, 0x5A5AA5A5} &&
              read_words(tb, 1, half - 1, 1, low) && write_read(tb, 1, half - 1, {low[0] ^ 0xFFFFFFFFu}) &&
              read_words(tb, 0, amem, 1, own) && own[0] == 0x600DF00D,
          "the extension leaves AMEM's own RAM and WMEM's lower half alone");
  }
  check(write_read(tb, 1, 0, {0x11223344}), "WRITE/READ WMEM word 0");

  // Recovery: RUN a program that does not end soon (no cycle limit), RESET it.
  for (bool nonsense : {false, true}) {
    const std::string what = nonsense ? "a CONV descriptor of nonsense" : "a run of millions of cycles";
    const Reply w = tb.request(
        0x02, dmem_write(nonsense ? npu_test::nonsense_program() : npu_test::long_program(80, 63, dim)));
    tb.send(0x04, Bytes{0});
    tb.run(20000);
    const uint8_t rs = tb.send(0x06, {});
    const uint64_t t0 = tb.cycles();
    const Reply rst = tb.reply(rs, clock_hz);  // a second of the board's clock
    const uint64_t took = tb.cycles() - t0;
    check(w.ok && w.status == 0 && rst.ok && rst.cmd == 0x86 && rst.status == 0,
          what + ": RESET answered within a second (" + std::to_string(took) + " cycles)");
    const Reply after = tb.request(0x01, {});
    check(after.ok && after.status == 0 && after.body.size() == 41, what + ": IDENTIFY after the RESET");
  }

  std::printf(
      "{\"ok\":%s,\"dim\":%u,\"acc_depth\":%u,\"amem\":%u,\"amem_ext\":%u,\"wmem\":%u,\"dmem\":%u,"
      "\"clock_hz\":%u,\"clocks_per_bit\":%u,\"max_payload\":%u}\n",
      failures == 0 ? "true" : "false", dim, acc_depth, amem, amem_ext, wmem, dmem, clock_hz, cpb, max_payload);
  return failures == 0 ? 0 : 1;
}
