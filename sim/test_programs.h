// Descriptor programs for the C++ benches (docs/ARCHITECTURE.md section 4, descriptor v3),
// encoded as host/compiler/program.ts encodeDescriptor does.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace npu_test {

inline uint32_t half(int32_t lo, int32_t hi) {
  return (static_cast<uint32_t>(lo) & 0xFFFFu) | ((static_cast<uint32_t>(hi) & 0xFFFFu) << 16);
}

// A one-layer CONV program that runs for a long time: a kernel x kernel window (padding
// (kernel - 1) / 2) over a 1x1 input, kernel^2 weight tiles of dim beats for its one output
// pixel, og output groups; then END. Its weights may reach past WMEM, which the core does
// not check (the host's checkProgram refuses such a program).
inline std::vector<uint32_t> long_program(uint32_t og, uint32_t kernel, unsigned dim) {
  const int32_t k = static_cast<int32_t>(kernel * kernel);
  const int32_t win = std::min<int32_t>(k, static_cast<int32_t>(dim));
  const int32_t pad = static_cast<int32_t>(kernel - 1) / 2;
  std::vector<uint32_t> d(32, 0);
  d[0] = 1;                                       // CONV, not grouped
  d[1] = 0;                                       // in_base
  d[2] = 8;                                       // out_base
  d[3] = half(1, 1);                              // input 1x1
  d[4] = half(0, static_cast<int32_t>(og) - 1);   // CG - 1, OG - 1
  d[5] = (kernel - 1) | ((kernel - 1) << 8) | (1u << 16) | (1u << 24);  // KH-1, KW-1, strides
  d[6] = half(1, 1);                              // row and column steps
  d[7] = half(1, 1);                              // pixel and row-end steps
  d[8] = 0;                                       // w_base
  d[9] = 15u | ((std::max(16u, dim) - 1) << 8) | ((static_cast<uint32_t>(k) * dim & 0xFFFFu) << 16);
  d[10] = 0x7F800000;                             // pad 0, zero point 0, lo -128, hi 127
  d[11] = half(win - k, win - 1);                 // the sliding window's Bresenham steps
  d[12] = half(-2 * pad, 1 - 2 + win);            // P(0,0); P - 2 + W
  d[13] = half(-pad, -pad);                       // pixel (0,0)'s input row and column
  d[14] = half(2 * win - 1 - k, 0);               // Bresenham start, OW - 1
  return d;                                       // descriptor 1: END
}

// A CONV descriptor of nonsense: every field past the opcode all ones; then END.
inline std::vector<uint32_t> nonsense_program() {
  std::vector<uint32_t> d(32, 0);
  d[0] = 1;
  std::fill(d.begin() + 1, d.begin() + 16, 0xFFFFFFFFu);
  return d;
}

}  // namespace npu_test
