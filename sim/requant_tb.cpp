// Bench of npu_requant (Lanes = REQUANT_LANES, default 4, and any RqUnits), or of
// npu_requant_vec when REQUANT_VEC is defined (the same ports, a vector a cycle): streams
// vectors from a file and writes the int8 results. Every vector has its own
// Steps/m/s/zp/lo/hi, which npu_requant reads until its output leaves (at most 16 +
// Lanes + 5 cycles after the load), so vectors go one every 16 + Lanes + 7 cycles
// (max(ceil(Steps / RqUnits), Lanes) is the rate for vectors that share them; npu_core
// runs at that rate, see the core tests). Input: u32 records per vector {zp | lo << 8 |
// hi << 16 | (Steps - 1) << 24, then per lane acc (i32), m (u32: M0 / 2^15), s (u32, the
// window shift)};
// output: Lanes bytes per vector, in order. Usage: requant_tb IN OUT [INTERVAL]: with an
// interval (cycles from one load to the next), the vectors go back to back at that rate
// and must share their Steps/M0/s/zp/lo/hi (the overlap of one vector's window with the
// next one's steps is what this exercises).
// The comparison with host/quant/requant.ts is in the test.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>
#ifdef REQUANT_VEC
#include "Vnpu_requant_vec.h"
using Top = Vnpu_requant_vec;
#else
#include "Vnpu_requant.h"
using Top = Vnpu_requant;
#endif
#include "verilated.h"
#include "vbits.h"

#ifndef REQUANT_LANES
#define REQUANT_LANES 4
#endif

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto top = std::make_unique<Top>(ctx.get());
  if (argc < 3) return 2;
  FILE* f = std::fopen(argv[1], "rb");
  if (!f) return 2;
  std::vector<uint32_t> in;
  uint32_t w;
  while (std::fread(&w, 4, 1, f) == 1) in.push_back(w);
  std::fclose(f);
  const int lanes = REQUANT_LANES;
  const size_t per = 1 + lanes * 3;
  const size_t n = in.size() / per;
  std::vector<uint8_t> out;
  top->clk_i = 0;
  top->rst_ni = 1;
  top->eval();
  top->rst_ni = 0;
  top->eval();
  top->rst_ni = 1;
  top->eval();
  const size_t interval = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 16 + lanes + 7;
  for (size_t c = 0; out.size() < lanes * n; c++) {
    if (c % interval == 0 && c / interval < n) {
      const uint32_t* v = &in[(c / interval) * per];
      top->in_valid_i = 1;
      top->zp_i = v[0] & 0xff;
      top->lo_i = (v[0] >> 8) & 0xff;
      top->hi_i = (v[0] >> 16) & 0xff;
      top->steps_m1_i = (v[0] >> 24) & 0xf;
      for (int l = 0; l < lanes; l++) {
        vbitsSet(top->acc_i, 32 * l, 32, v[1 + 3 * l]);
        vbitsSet(top->m_i, 16 * l, 16, v[2 + 3 * l]);
        vbitsSet(top->s_i, 4 * l, 4, v[3 + 3 * l]);
      }
    } else {
      top->in_valid_i = 0;
    }
    top->clk_i = 0;
    top->eval();
    if (top->out_valid_o) {
      for (int l = 0; l < lanes; l++) out.push_back(static_cast<uint8_t>(vbitsGet(top->y_o, 8 * l, 8)));
    }
    top->clk_i = 1;
    top->eval();
    if (c > interval * n + 100) {
      std::fprintf(stderr, "requant_tb: outputs missing\n");
      return 1;
    }
  }
  top->final();
  FILE* o = std::fopen(argv[2], "wb");
  if (!o || std::fwrite(out.data(), 1, out.size(), o) != out.size()) return 2;
  std::fclose(o);
  return 0;
}
