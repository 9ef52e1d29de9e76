// link_selftest: self-checking bench of the link (protocol version 2) through the UartSim
// line model (no pty, no host): npu_top is driven with request frames and every reply is
// checked, with the RTL core behind it.
//   link_selftest [--ber P] [--seed N] [+verilator+args]
// Exit status 0 when every check passes; each check prints one line.
#include "test_programs.h"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "Vnpu_top.h"
#include "uartsim.h"
#include "verilated.h"

#ifndef NPU_CLKS_PER_BIT
#error "build with -DNPU_CLKS_PER_BIT=<the ClksPerBit parameter of npu_top>"
#endif

namespace {

using Bytes = std::vector<uint8_t>;

enum : uint8_t { Identify = 1, Write = 2, Read = 3, Run = 4, Infer = 5, Reset = 6 };
enum : uint8_t { Ok = 0, BadCmd = 1, BadAddr = 2, BadLen = 3, Busy = 4, BadSpace = 5, Watchdog = 6 };

uint16_t crc16(const uint8_t *p, size_t n) {  // CRC-16/CCITT-FALSE
  uint16_t crc = 0xFFFF;
  for (size_t i = 0; i < n; ++i) {
    crc ^= static_cast<uint16_t>(p[i] << 8);
    for (int b = 0; b < 8; ++b) crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
  }
  return crc;
}

Bytes frame(uint8_t cmd, uint8_t seq, const Bytes &payload) {
  Bytes f = {0xA5, cmd, seq, static_cast<uint8_t>(payload.size()), static_cast<uint8_t>(payload.size() >> 8)};
  f.insert(f.end(), payload.begin(), payload.end());
  const uint16_t c = crc16(f.data() + 1, f.size() - 1);
  f.push_back(c & 0xFF);
  f.push_back(c >> 8);
  return f;
}

void put32(Bytes &b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put16(Bytes &b, uint16_t v) {
  b.push_back(v & 0xFF);
  b.push_back(v >> 8);
}
uint32_t get32(const Bytes &b, size_t at) {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (static_cast<uint32_t>(b[at + 3]) << 24);
}

struct Reply {
  bool ok = false;  // a well-formed frame with a good CRC arrived
  uint8_t cmd = 0, seq = 0, status = 0xFF;
  Bytes body;  // after the status byte
};

class Bench {
 public:
  Bench(int argc, char **argv, double ber, uint64_t seed) : uart_(NPU_CLKS_PER_BIT, ber, seed) {
    ctx_ = std::make_unique<VerilatedContext>();
    ctx_->commandArgs(argc, argv);
    top_ = std::make_unique<Vnpu_top>(ctx_.get(), "top");
    top_->rst_ni = 0;
    for (int i = 0; i < 8; ++i) tick();
    top_->rst_ni = 1;
  }
  ~Bench() { top_->final(); }

  void tick() {
    top_->uart_rx_i = rx_;
    top_->clk_i = 0;
    top_->eval();
    top_->clk_i = 1;
    top_->eval();
    rx_ = uart_.tick(top_->uart_tx_o);
    ++cycles_;
  }
  void send(const Bytes &b) { uart_.send(b); }
  // The next reply frame within max_cycles (not ok when none arrives).
  Reply wait_reply(uint64_t max_cycles = 4000000) {
    Reply r;
    for (uint64_t i = 0; i < max_cycles; ++i) {
      tick();
      uint8_t b;
      while (uart_.recv(b)) rx_buf_.push_back(b);
      while (!rx_buf_.empty() && rx_buf_[0] != 0xA5) rx_buf_.erase(rx_buf_.begin());
      if (rx_buf_.size() < 5) continue;
      const size_t len = rx_buf_[3] | (rx_buf_[4] << 8);
      if (rx_buf_.size() < len + 7) continue;
      const uint16_t c = rx_buf_[5 + len] | (rx_buf_[6 + len] << 8);
      r.ok = len >= 1 && crc16(rx_buf_.data() + 1, 4 + len) == c;
      r.cmd = rx_buf_[1];
      r.seq = rx_buf_[2];
      if (len >= 1) r.status = rx_buf_[5];
      r.body.assign(rx_buf_.begin() + 6, rx_buf_.begin() + 5 + len);
      rx_buf_.erase(rx_buf_.begin(), rx_buf_.begin() + 7 + len);
      return r;
    }
    return r;
  }
  Reply request(uint8_t cmd, const Bytes &payload) {
    send(frame(cmd, ++seq_, payload));
    return wait_reply();
  }
  void settle(uint64_t n) {
    for (uint64_t i = 0; i < n || !top_->idle_o || uart_.busy(); ++i) tick();
  }
  uint8_t seq() const { return seq_; }
  uint8_t next_seq() { return ++seq_; }
  uint64_t cycles() const { return cycles_; }

 private:
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vnpu_top> top_;
  UartSim uart_;
  Bytes rx_buf_;
  int rx_ = 1;
  uint64_t cycles_ = 0;
  uint8_t seq_ = 0;
};

int failures = 0;
void check(bool cond, const std::string &what) {
  std::printf("%s %s\n", cond ? "ok  " : "FAIL", what.c_str());
  if (!cond) ++failures;
}

Bytes write_payload(uint8_t space, uint32_t addr, const std::vector<uint32_t> &words) {
  Bytes p = {space};
  put32(p, addr);
  for (uint32_t w : words) put32(p, w);
  return p;
}
Bytes read_payload(uint8_t space, uint32_t addr, uint16_t count) {
  Bytes p = {space};
  put32(p, addr);
  put16(p, count);
  return p;
}

// One INFER part (ARCHITECTURE section 6): tag/last/part, part 0's input fields, the last
// part's output fields, then the packed input bytes. Lanes are bytes per memory word.
struct Part {
  uint8_t tag = 0, part = 0;
  bool last = true;
  uint8_t in_lanes = 1;
  uint16_t in_addr = 0;
  uint8_t out_lanes = 1;
  uint16_t out_addr = 0, out_count = 0;
  uint8_t limit = 0;
  Bytes data;
};
Bytes infer_payload(const Part &p) {
  Bytes b = {static_cast<uint8_t>((p.tag << 6) | (p.last ? 0x20 : 0) | p.part)};
  if (p.part == 0) {
    b.push_back(p.in_lanes - 1);
    put16(b, p.in_addr);
  }
  if (p.last) {
    b.push_back(p.out_lanes - 1);
    put16(b, p.out_addr);
    put16(b, p.out_count);
    b.push_back(p.limit);
  }
  b.insert(b.end(), p.data.begin(), p.data.end());
  return b;
}

using npu_test::long_program;
using npu_test::nonsense_program;

}  // namespace

int main(int argc, char **argv) {
  Bench tb(argc, argv, 0.0, 1);

  Reply id = tb.request(Identify, {});
  check(id.ok && id.cmd == 0x81 && id.status == Ok && id.body.size() == 41, "IDENTIFY answers with 41 bytes");
  const unsigned dim = id.body[1];
  const uint32_t amem = get32(id.body, 4), wmem = get32(id.body, 8), dmem = get32(id.body, 12), cnt = get32(id.body, 16);
  const unsigned cpb = id.body[24] | (id.body[25] << 8);
  const unsigned sub = dim / 4;  // host words per memory word
  std::printf("     version=%u N=%u amem=%u wmem=%u dmem=%u cnt=%u clocks_per_bit=%u\n", id.body[0], dim, amem, wmem,
              dmem, cnt, cpb);
  check(id.body[0] == 2, "IDENTIFY reports protocol version 2");
  check(cpb == NPU_CLKS_PER_BIT, "IDENTIFY reports the clocks per bit");

  const uint32_t sizes[3] = {amem, wmem, dmem};
  for (uint8_t sp = 0; sp < 3; ++sp) {
    std::vector<uint32_t> w;
    for (uint32_t i = 0; i < 5; ++i) w.push_back(0x01020304u * (i + 1) + sp);
    const uint32_t at = sizes[sp] - 5;  // the last words of the space
    Reply wr = tb.request(Write, write_payload(sp, at, w));
    check(wr.ok && wr.status == Ok && wr.body.empty(), "WRITE space " + std::to_string(sp));
    Reply rd = tb.request(Read, read_payload(sp, at, 5));
    bool same = rd.ok && rd.status == Ok && rd.body.size() == 20;
    for (uint32_t i = 0; same && i < 5; ++i) same = get32(rd.body, 4 * i) == w[i];
    check(same, "READ space " + std::to_string(sp) + " returns what was written");
    Reply bad = tb.request(Write, write_payload(sp, sizes[sp] - 4, w));
    check(bad.ok && bad.status == BadAddr, "WRITE past the end of space " + std::to_string(sp) + " is BAD_ADDR");
    Reply wrap = tb.request(Read, read_payload(sp, 0xFFFFFFFFu, 2));
    check(wrap.ok && wrap.status == BadAddr, "READ at 0xFFFFFFFF is BAD_ADDR, not wrapped");
  }
  {
    Reply rd = tb.request(Read, read_payload(1, wmem - 5, 5));
    check(rd.ok && get32(rd.body, 4) == 0x01020304u * 2 + 1, "a refused WRITE leaves the words before the end untouched");
  }
  check(tb.request(Write, write_payload(3, 0, {1})).status == BadSpace, "WRITE to CNT is BAD_SPACE");
  check(tb.request(Read, read_payload(7, 0, 1)).status == BadSpace, "READ of space 7 is BAD_SPACE");
  check(tb.request(Read, read_payload(0, 0, 4000)).status == BadLen, "READ longer than max_payload is BAD_LEN");
  check(tb.request(Write, Bytes{0, 0, 0, 0, 0, 1, 2}).status == BadLen, "WRITE with a partial word is BAD_LEN");
  check(tb.request(0x42, {}).status == BadCmd, "unknown command is BAD_CMD");
  check(tb.request(Read, read_payload(2, 0x00010000u, 1)).status == BadAddr, "READ at 0x10000 in DMEM is BAD_ADDR");
  check(tb.request(Read, read_payload(0, 0x01000000u, 1)).status == BadAddr, "READ with only the top address byte set is BAD_ADDR");
  check(tb.request(Read, read_payload(0, 0, 0x100)).status == Ok, "READ of 256 words fits the simulated board's max_payload");
  check(tb.request(Read, read_payload(0, 0, 0x8000)).status == BadLen, "READ of 0x8000 words is BAD_LEN");
  check(tb.request(Write, Bytes(8194, 0)).status == BadLen, "a payload longer than max_payload is received, checked and BAD_LEN");

  // garbage, a bad CRC and a truncated frame, then a good frame; the counters see them
  tb.send(Bytes{0x00, 0xFF, 0x13, 0x37, 0xA5, 0xA5});
  tb.settle(300000);  // past the watchdog: the sync byte in the garbage opened a frame
  Bytes corrupt = frame(Identify, tb.next_seq(), {});
  corrupt[corrupt.size() - 1] ^= 0x40;
  tb.send(corrupt);
  Bytes trunc = frame(Write, tb.next_seq(), write_payload(0, 0, {1, 2, 3}));
  trunc.resize(9);
  tb.send(trunc);
  tb.settle(300000);  // past the watchdog
  Reply after = tb.request(Identify, {});
  check(after.ok && after.status == Ok && after.seq == tb.seq(), "device answers a good frame after garbage, a bad CRC and a truncated frame");
  const unsigned crc_errs = after.body[29] | (after.body[30] << 8), timeouts = after.body[33] | (after.body[34] << 8);
  std::printf("     crc errors %u, timeouts %u\n", crc_errs, timeouts);
  check(crc_errs >= 1 && timeouts >= 1, "IDENTIFY counts the bad CRC and the stalled frame");

  // repeated seq + cmd: answered, not executed
  const uint8_t s = tb.next_seq();
  tb.send(frame(Write, s, write_payload(0, 100, {0xAAAAAAAA})));
  Reply r1 = tb.wait_reply();
  tb.send(frame(Write, s, write_payload(0, 100, {0xBBBBBBBB})));
  Reply r2 = tb.wait_reply();
  Reply rd = tb.request(Read, read_payload(0, 100, 1));
  check(r1.ok && r2.ok && r2.status == Ok && r2.seq == s && get32(rd.body, 0) == 0xAAAAAAAA,
        "a repeated seq is answered again, not executed");

  // RUN of the empty program (descriptor 0 is END)
  tb.request(Write, write_payload(2, 0, {0}));
  const uint8_t sr = tb.next_seq();
  tb.send(frame(Run, sr, {0}));
  Reply run1 = tb.wait_reply();
  tb.send(frame(Run, sr, {0}));
  Reply run2 = tb.wait_reply();
  check(run1.ok && run1.status == Ok && run1.body.size() == 4 && get32(run1.body, 0) > 0, "RUN replies with its cycles");
  check(run2.ok && run2.status == Ok && run2.body == run1.body, "a repeated RUN returns the stored cycles");
  check(tb.request(Run, {}).status == BadLen, "RUN without its cycle limit is BAD_LEN");

  // ---- INFER, one part: packed lanes, written and read back (the program is empty, so the
  // outputs are the inputs)
  for (uint8_t lanes : {uint8_t(1), uint8_t(3), uint8_t(dim > 4 ? 5 : 2), uint8_t(dim)}) {
    Part p;
    p.tag = 0;
    p.in_lanes = p.out_lanes = lanes;
    p.in_addr = p.out_addr = static_cast<uint16_t>(2000 * sub);
    for (int i = 0; i < 4 * lanes + 2; ++i) p.data.push_back(static_cast<uint8_t>(0x40 + 7 * i + lanes));
    p.out_count = static_cast<uint16_t>(p.data.size());
    tb.request(Reset, {});
    Reply r = tb.request(Infer, infer_payload(p));
    const bool echo = r.ok && r.status == Ok && r.body.size() == p.data.size() + 4 &&
                      Bytes(r.body.begin(), r.body.begin() + p.data.size()) == p.data && get32(r.body, p.data.size()) > 0;
    // memory word k of the tensor holds bytes lanes*k .. in its lanes 0..lanes-1
    Reply raw = tb.request(Read, read_payload(0, 2000 * sub, static_cast<uint16_t>(6 * sub)));
    bool placed = raw.ok && raw.status == Ok;
    for (size_t i = 0; placed && i < p.data.size(); ++i) {
      const size_t word = i / lanes, lane = i % lanes;
      placed = raw.body[4 * sub * word + lane] == p.data[i];
    }
    check(echo, "INFER with " + std::to_string(lanes) + " lane(s): the reply carries the packed outputs and the cycles");
    check(placed, "INFER with " + std::to_string(lanes) + " lane(s): each byte in its lane of its memory word");
  }
  {
    Part p;
    p.in_lanes = static_cast<uint8_t>(dim + 1);
    p.data = {1, 2, 3};
    tb.request(Reset, {});
    check(tb.request(Infer, infer_payload(p)).status == BadLen, "INFER with more lanes than the array is BAD_LEN");
    Part q;
    q.in_addr = static_cast<uint16_t>(3000 * sub);
    q.out_addr = static_cast<uint16_t>(amem - sub);
    q.out_count = static_cast<uint16_t>(2 * 1);
    q.data = {0x77, 0x78};
    tb.request(Write, write_payload(0, 3000 * sub, {0x11111111}));
    check(tb.request(Infer, infer_payload(q)).status == BadAddr, "INFER whose outputs leave AMEM is BAD_ADDR");
    Reply w = tb.request(Read, read_payload(0, 3000 * sub, 1));
    check(get32(w.body, 0) == 0x11111111, "... and its input is not written");
    Part l;
    l.in_addr = static_cast<uint16_t>(amem - 2 * sub);
    l.out_addr = 0;
    l.data = {1, 2, 3};
    check(tb.request(Infer, infer_payload(l)).status == BadAddr, "INFER whose input leaves AMEM is BAD_ADDR");
  }

  // ---- INFER in parts: order, repeats, replay
  {
    tb.request(Reset, {});
    const uint16_t base = static_cast<uint16_t>(4000 * sub);
    Part p0, p1, p2;
    p0.tag = p1.tag = p2.tag = 1;
    p0.part = 0, p1.part = 1, p2.part = 2;
    p0.last = p1.last = false;
    p0.in_addr = base;
    p0.in_lanes = 2;
    p0.data = {1, 2, 3, 4};
    p1.data = {5, 6, 7, 8};
    p2.data = {9, 10};
    p2.out_lanes = 2;
    p2.out_addr = base;
    p2.out_count = 10;
    check(tb.request(Infer, infer_payload(p0)).status == Ok, "INFER part 0 of 3 is written");
    Reply early = tb.request(Infer, infer_payload(p2));
    if (early.status != Busy) std::printf("     got status %u, %zu body bytes\n", early.status, early.body.size());
    check(early.status == Busy, "the last part before part 1 is BUSY");
    Part p0b = p0;
    p0b.data = {0xEE, 0xEE, 0xEE, 0xEE};
    Reply again = tb.request(Infer, infer_payload(p0b));
    check(again.status == Ok && again.body.empty(), "part 0 again is answered OK");
    Part p1odd = p1;
    p1odd.data = {5, 6, 7};
    check(tb.request(Infer, infer_payload(p1odd)).status == BadLen, "a part that ends inside a memory word is BAD_LEN");
    check(tb.request(Infer, infer_payload(p1)).status == Ok, "INFER part 1 is written");
    Part other;
    other.tag = 2;
    other.data = {1};
    check(tb.request(Infer, infer_payload(other)).status == Busy,
          "a new input's part 0 before the last part of the one being written is BUSY");
    Reply out = tb.request(Infer, infer_payload(p2));
    const Bytes want = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    check(out.ok && out.status == Ok && out.body.size() == 14 && Bytes(out.body.begin(), out.body.begin() + 10) == want,
          "the last part runs and returns the whole input (part 0 not written twice)");
    Part p2b = p2;
    p2b.data = {0xEE, 0xEE};
    Reply replay = tb.request(Infer, infer_payload(p2b));
    check(replay.ok && replay.status == Ok && replay.body == out.body,
          "the last part again is answered from memory, not written nor run");
    Part n0 = other;
    n0.tag = 2;
    n0.in_addr = static_cast<uint16_t>(5000 * sub);
    n0.last = false;
    n0.data = {3, 3};
    check(tb.request(Infer, infer_payload(n0)).status == Ok, "the next input's part 0 is written");
    Reply replay2 = tb.request(Infer, infer_payload(p2));
    check(replay2.ok && replay2.status == Ok && replay2.body == out.body,
          "... and the previous inference's last part is still answered from memory");
  }

  // Two requests back to back: both answered in order (the second is received while the
  // first one runs); a third finds both banks taken and is dropped and counted.
  {
    const Reply before = tb.request(Identify, {});
    const uint8_t s1 = tb.next_seq(), s2 = tb.next_seq(), s3 = tb.next_seq();
    tb.send(frame(Read, s1, read_payload(1, 0, 2000)));
    tb.send(frame(Read, s2, read_payload(0, 100, 1)));
    tb.send(frame(Identify, s3, {}));
    Reply q1 = tb.wait_reply(), q2 = tb.wait_reply();
    Reply q3 = tb.wait_reply(400000);
    const Reply after_drop = tb.request(Identify, {});
    const unsigned drops0 = before.body[35] | (before.body[36] << 8), drops1 = after_drop.body[35] | (after_drop.body[36] << 8);
    check(q1.ok && q2.ok && q1.seq == s1 && q1.body.size() == 8000 && q2.seq == s2 && !q3.ok && drops1 == drops0 + 1,
          "a frame that finds both banks taken is dropped and counted; the two before it are answered");
  }

  // RESET needs no bank: behind a long reply and a waiting WRITE it is still answered, the
  // WRITE is dropped, the counters are cleared.
  {
    const uint8_t s1 = tb.next_seq(), s2 = tb.next_seq(), s3 = tb.next_seq();
    tb.send(frame(Read, s1, read_payload(1, 0, 2000)));
    tb.send(frame(Write, s2, write_payload(0, 100, {0xCCCCCCCC})));
    tb.send(frame(Reset, s3, {}));
    Reply q1 = tb.wait_reply(), q2 = tb.wait_reply(), q3 = tb.wait_reply(300000);
    Reply w = tb.request(Read, read_payload(0, 100, 1));
    Reply idr = tb.request(Identify, {});
    bool zero = idr.ok;
    for (int i = 29; zero && i < 37; ++i) zero = idr.body[i] == 0;
    check(q1.ok && q1.seq == s1 && q2.ok && q2.cmd == 0x86 && q2.seq == s3 && !q3.ok && get32(w.body, 0) == 0xAAAAAAAA,
          "RESET behind a long reply and a waiting WRITE is answered; the WRITE is dropped");
    check(zero, "RESET clears the error counters");
  }

  // While the core runs, both banks take the next requests (RUN releases its bank when
  // the program starts): two frames sent during a run are both answered after it.
  {
    tb.request(Write, write_payload(1, 0, std::vector<uint32_t>(16, 0)));
    tb.request(Write, write_payload(2, 0, long_program(1, 55, dim)));
    const Reply before = tb.request(Identify, {});
    const uint8_t sr = tb.next_seq(), s1 = tb.next_seq(), s2 = tb.next_seq();
    tb.send(frame(Run, sr, {0}));
    tb.send(frame(Read, s1, read_payload(0, 100, 1)));
    tb.send(frame(Read, s2, read_payload(0, 101, 1)));
    Reply rr = tb.wait_reply(), r1 = tb.wait_reply(), r2 = tb.wait_reply();
    const Reply after = tb.request(Identify, {});
    check(rr.ok && rr.seq == sr && rr.status == Ok && get32(rr.body, 0) > 10000 && r1.ok && r1.seq == s1 &&
              r2.ok && r2.seq == s2 && after.body[35] == before.body[35],
          "two requests sent during a run wait in both banks and are answered after it");
  }

  // ---- runs that must be stopped
  tb.request(Write, write_payload(0, 8 * sub, {0x5EED5EED}));  // a fence by the program's outputs
  tb.request(Write, write_payload(1, 0, std::vector<uint32_t>(16, 0)));
  {
    // A program that runs for millions of cycles, without a limit: a probe is answered BUSY,
    // RESET stops it within a few thousand cycles, IDENTIFY works after.
    tb.request(Write, write_payload(2, 0, long_program(80, 63, dim)));
    const uint8_t srun = tb.next_seq();
    tb.send(frame(Run, srun, {0}));
    Reply none = tb.wait_reply(100000);
    tb.send(frame(Identify, tb.next_seq(), {}));
    Reply probe = tb.wait_reply(20000);
    const uint64_t t0 = tb.cycles();
    tb.send(frame(Reset, tb.next_seq(), {}));
    Reply rst = tb.wait_reply(200000);
    const uint64_t took = tb.cycles() - t0;
    Reply idr = tb.request(Identify, {});
    check(!none.ok, "a long RUN does not answer before it ends");
    check(probe.ok && probe.cmd == 0x81 && probe.status == Busy, "IDENTIFY during the run is answered BUSY at once");
    check(rst.ok && rst.cmd == 0x86 && rst.status == Ok, "RESET during the run is answered");
    std::printf("     RESET answered %llu cycles after it was sent\n", static_cast<unsigned long long>(took));
    check(idr.ok && idr.status == Ok && idr.body.size() == 41, "IDENTIFY after the stopped run");
    Reply fence = tb.request(Read, read_payload(0, 8 * sub, 1));
    check(fence.ok && fence.status == Ok, "memory is readable after the stopped run");
    Reply empty = tb.request(Write, write_payload(2, 0, {0}));
    Reply again = tb.request(Run, {0});
    check(empty.status == Ok && again.ok && again.status == Ok, "the core runs again after it was stopped");
  }
  {
    // The same program with a cycle limit of 2^20: stopped by the watchdog, answered
    // WATCHDOG, and again so when the RUN is repeated.
    tb.request(Write, write_payload(2, 0, long_program(80, 63, dim)));
    const uint8_t srun = tb.next_seq();
    tb.send(frame(Run, srun, {1}));
    Reply wd = tb.wait_reply(3000000);
    tb.send(frame(Run, srun, {1}));
    Reply wd2 = tb.wait_reply(100000);
    check(wd.ok && wd.cmd == 0x84 && wd.status == Watchdog && wd.body.empty(), "a run past its cycle limit is stopped: WATCHDOG");
    check(wd2.ok && wd2.status == Watchdog, "the repeated RUN is answered WATCHDOG again, not run");
    check(tb.request(Identify, {}).status == Ok, "IDENTIFY after the watchdog");
  }
  {
    // A descriptor of nonsense: whatever the controller makes of it, RESET recovers.
    tb.request(Write, write_payload(2, 0, nonsense_program()));
    tb.send(frame(Run, tb.next_seq(), {0}));
    tb.wait_reply(100000);  // none while it hangs (or an answer from a controller that refuses it)
    tb.send(frame(Reset, tb.next_seq(), {}));
    Reply rst = tb.wait_reply(200000);
    check(rst.ok && rst.cmd == 0x86 && rst.status == Ok, "RESET after a nonsense descriptor is answered");
    check(tb.request(Identify, {}).status == Ok, "IDENTIFY after it");
  }

  std::printf("%s: %d failure(s), %llu cycles\n", failures ? "FAIL" : "PASS", failures,
              static_cast<unsigned long long>(tb.cycles()));
  return failures ? 1 : 0;
}
