// link_selftest: self-checking bench of the link through the UartSim line model (no
// pty, no host): npu_top is driven with request frames and every reply is checked.
//   link_selftest [--ber P] [--seed N] [+verilator+args]
// Exit status 0 when every check passes; each check prints one line.
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
  // Sends raw bytes and runs until the device is idle again with the line quiet.
  void send(const Bytes &b) { uart_.send(b); }
  Reply wait_reply(uint64_t max_cycles = 4000000) {
    Bytes rx;
    Reply r;
    for (uint64_t i = 0; i < max_cycles; ++i) {
      tick();
      uint8_t b;
      while (uart_.recv(b)) rx.push_back(b);
      if (rx.size() >= 5 && rx[0] == 0xA5) {
        const size_t len = rx[3] | (rx[4] << 8);
        if (rx.size() >= len + 7) {
          const uint16_t c = rx[5 + len] | (rx[6 + len] << 8);
          r.ok = len >= 1 && crc16(rx.data() + 1, 4 + len) == c;
          r.cmd = rx[1];
          r.seq = rx[2];
          if (len >= 1) r.status = rx[5];
          r.body.assign(rx.begin() + 6, rx.begin() + 5 + len);
          return r;
        }
      } else if (!rx.empty() && rx[0] != 0xA5) {
        rx.erase(rx.begin());
      }
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

}  // namespace

int main(int argc, char **argv) {
  Bench tb(argc, argv, 0.0, 1);

  Reply id = tb.request(0x01, {});
  check(id.ok && id.cmd == 0x81 && id.status == 0 && id.body.size() == 37, "IDENTIFY answers with 37 bytes");
  const uint32_t amem = get32(id.body, 4), wmem = get32(id.body, 8), dmem = get32(id.body, 12), cnt = get32(id.body, 16);
  const unsigned cpb = id.body[24] | (id.body[25] << 8);
  std::printf("     N=%u amem=%u wmem=%u dmem=%u cnt=%u clocks_per_bit=%u\n", id.body[1], amem, wmem, dmem, cnt, cpb);
  check(cpb == NPU_CLKS_PER_BIT, "IDENTIFY reports the clocks per bit");

  const uint32_t sizes[3] = {amem, wmem, dmem};
  for (uint8_t sp = 0; sp < 3; ++sp) {
    std::vector<uint32_t> w;
    for (uint32_t i = 0; i < 5; ++i) w.push_back(0x01020304u * (i + 1) + sp);
    const uint32_t at = sizes[sp] - 5;  // the last words of the space
    Reply wr = tb.request(0x02, write_payload(sp, at, w));
    check(wr.ok && wr.status == 0 && wr.body.empty(), "WRITE space " + std::to_string(sp));
    Reply rd = tb.request(0x03, read_payload(sp, at, 5));
    bool same = rd.ok && rd.status == 0 && rd.body.size() == 20;
    for (uint32_t i = 0; same && i < 5; ++i) same = get32(rd.body, 4 * i) == w[i];
    if (!same && rd.ok && rd.body.size() == 20)
      for (uint32_t i = 0; i < 5; ++i) std::printf("     word %u: read %08x, wrote %08x\n", at + i, get32(rd.body, 4 * i), w[i]);
    check(same, "READ space " + std::to_string(sp) + " returns what was written");
    Reply bad = tb.request(0x02, write_payload(sp, sizes[sp] - 4, w));
    check(bad.ok && bad.status == 2, "WRITE past the end of space " + std::to_string(sp) + " is BAD_ADDR");
    Reply wrap = tb.request(0x03, read_payload(sp, 0xFFFFFFFFu, 2));
    check(wrap.ok && wrap.status == 2, "READ at 0xFFFFFFFF is BAD_ADDR, not wrapped");
  }
  check(tb.request(0x02, write_payload(3, 0, {1})).status == 5, "WRITE to CNT is BAD_SPACE");
  check(tb.request(0x03, read_payload(7, 0, 1)).status == 5, "READ of space 7 is BAD_SPACE");
  check(tb.request(0x03, read_payload(0, 0, 4000)).status == 3, "READ longer than max_payload is BAD_LEN");
  check(tb.request(0x02, Bytes{0, 0, 0, 0, 0, 1, 2}).status == 3, "WRITE with a partial word is BAD_LEN");
  check(tb.request(0x42, {}).status == 1, "unknown command is BAD_CMD");

  // garbage, a bad CRC and a truncated frame, then a good frame
  tb.send(Bytes{0x00, 0xFF, 0x13, 0x37, 0xA5, 0xA5});
  Bytes corrupt = frame(0x01, tb.next_seq(), {});
  corrupt[corrupt.size() - 1] ^= 0x40;
  tb.send(corrupt);
  Bytes trunc = frame(0x02, tb.next_seq(), write_payload(0, 0, {1, 2, 3}));
  trunc.resize(9);
  tb.send(trunc);
  tb.settle(300000);  // past the watchdog
  Reply after = tb.request(0x01, {});
  check(after.ok && after.status == 0 && after.seq == tb.seq(), "device answers a good frame after garbage, a bad CRC and a truncated frame");

  // repeated seq + cmd: answered, not executed twice
  const uint8_t s = tb.next_seq();
  tb.send(frame(0x02, s, write_payload(0, 100, {0xAAAAAAAA})));
  Reply r1 = tb.wait_reply();
  tb.send(frame(0x02, s, write_payload(0, 100, {0xBBBBBBBB})));
  Reply r2 = tb.wait_reply();
  Reply rd = tb.request(0x03, read_payload(0, 100, 1));
  check(r1.ok && r2.ok && r2.status == 0 && r2.seq == s && get32(rd.body, 0) == 0xAAAAAAAA,
        "a repeated seq is answered from the stored reply, not executed");

  // RUN and INFER of the empty program (descriptor 0 is END): INFER's output region is
  // its input region, so the reply returns the input.
  tb.request(0x02, write_payload(2, 0, {0}));
  Reply run = tb.request(0x04, {});
  check(run.ok && run.status == 0 && run.body.size() == 4 && get32(run.body, 0) > 0, "RUN replies with its cycles");
  if (!run.ok || run.status != 0) std::printf("     RUN: ok=%d status=%u body=%zu\n", run.ok, run.status, run.body.size());
  Bytes inf;
  put32(inf, 200);  // in_addr
  put32(inf, 200);  // out_addr
  put16(inf, 3);    // out_count
  for (uint32_t w : {7u, 8u, 9u}) put32(inf, w);
  Reply infer = tb.request(0x05, inf);
  check(infer.ok && infer.status == 0 && infer.body.size() == 16 && get32(infer.body, 0) == 7 && get32(infer.body, 8) == 9,
        "INFER writes the input, runs and returns the outputs and cycles");

  // two requests back to back: both answered in order (the second is received while
  // the first one runs)
  const uint8_t sa = tb.next_seq(), sb = tb.next_seq();
  tb.send(frame(0x04, sa, {}));
  tb.send(frame(0x03, sb, read_payload(0, 200, 1)));
  Reply ra = tb.wait_reply(), rb = tb.wait_reply();
  check(ra.ok && rb.ok && ra.seq == sa && rb.seq == sb && get32(rb.body, 0) == 7, "two pipelined requests are both answered in order");

  // a repeated INFER writes nothing and does not run: the reply still shows the first
  // input (out_addr = in_addr), with the first run's cycles
  const uint8_t si = tb.next_seq();
  Bytes inf1, inf2;
  for (Bytes *b : {&inf1, &inf2}) {
    put32(*b, 300);
    put32(*b, 300);
    put16(*b, 2);
  }
  for (uint32_t w : {0x11u, 0x22u}) put32(inf1, w);
  for (uint32_t w : {0x33u, 0x44u}) put32(inf2, w);
  tb.send(frame(0x05, si, inf1));
  Reply i1 = tb.wait_reply();
  tb.send(frame(0x05, si, inf2));
  Reply i2 = tb.wait_reply();
  check(i1.ok && i2.ok && i1.status == 0 && i2.status == 0 && i2.seq == si && i2.body == i1.body &&
            get32(i2.body, 0) == 0x11 && get32(i2.body, 4) == 0x22,
        "a repeated INFER is answered with the first input's outputs and cycles, not executed");
  const uint8_t sr = tb.next_seq();
  tb.send(frame(0x04, sr, {}));
  Reply run1 = tb.wait_reply();
  tb.send(frame(0x04, sr, {}));
  Reply run2 = tb.wait_reply();
  check(run1.ok && run2.ok && run2.status == 0 && run2.body == run1.body, "a repeated RUN returns the stored cycles");

  // range and length checks on the high bytes of the fields (never wrapped)
  check(tb.request(0x03, read_payload(2, 0x00010000u, 1)).status == 2, "READ at 0x10000 in DMEM is BAD_ADDR");
  check(tb.request(0x03, read_payload(0, 0x01000000u, 1)).status == 2, "READ with only the top address byte set is BAD_ADDR");
  check(tb.request(0x03, read_payload(0, 0, 0x100)).status == 0, "READ of 256 words fits the simulated board's max_payload");
  check(tb.request(0x03, read_payload(0, 0, 0x8000)).status == 3, "READ of 0x8000 words is BAD_LEN");
  Bytes inf_long;
  put32(inf_long, 0);
  put32(inf_long, 0);
  put16(inf_long, 2047);  // 4·2047 + 5 > 8192
  check(tb.request(0x05, inf_long).status == 3, "INFER whose reply would exceed max_payload is BAD_LEN");
  Bytes inf_range;
  put32(inf_range, amem - 1);
  put32(inf_range, 0);
  put16(inf_range, 1);
  for (uint32_t w : {1u, 2u}) put32(inf_range, w);
  check(tb.request(0x05, inf_range).status == 2, "INFER whose input runs past AMEM is BAD_ADDR");
  check(tb.request(0x02, Bytes(8194, 0)).status == 3, "a payload longer than max_payload is received, checked and BAD_LEN");

  // A long reply keeps the executor busy: the next frame waits in the free bank, a third
  // one finds no bank and is dropped (and counted); the first two are answered.
  const Reply before = tb.request(0x01, {});
  const uint8_t s1 = tb.next_seq(), s2 = tb.next_seq(), s3 = tb.next_seq();
  tb.send(frame(0x03, s1, read_payload(1, 0, 2000)));
  tb.send(frame(0x03, s2, read_payload(0, 200, 1)));
  tb.send(frame(0x01, s3, {}));
  Reply q1 = tb.wait_reply(), q2 = tb.wait_reply();
  Reply q3 = tb.wait_reply(400000);
  const Reply after_drop = tb.request(0x01, {});
  const unsigned drops0 = before.body[35] | (before.body[36] << 8), drops1 = after_drop.body[35] | (after_drop.body[36] << 8);
  check(q1.ok && q2.ok && q1.seq == s1 && q1.body.size() == 8000 && q2.seq == s2 && !q3.ok && drops1 == drops0 + 1,
        "a frame that finds both banks taken is dropped and counted; the two before it are answered");

  Reply rst = tb.request(0x06, {});
  check(rst.ok && rst.status == 0, "RESET");

  std::printf("%s: %d failure(s), %llu cycles\n", failures ? "FAIL" : "PASS", failures,
              static_cast<unsigned long long>(tb.cycles()));
  return failures ? 1 : 0;
}
