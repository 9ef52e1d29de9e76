// Self-checking bench of npu_array alone: random weight tiles of random lengths
// (including single-activation tiles, the dense case) streamed back to back with the
// double-buffering rule of the npu_array header (row r of tile k loaded in cycle
// t_k + r, tiles >= Cols cycles apart), every output compared with a software
// matrix product. Usage: array_tb [seed] [tiles]. Prints "PASS <n> vectors" or the
// first mismatch, exit 0 / 1.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>
#include "Vnpu_array.h"
#include "verilated.h"
#include "vbits.h"

#ifndef ROWS
#define ROWS 8
#endif
#ifndef COLS
#define COLS 8
#endif
static const int kPsumWidth = 16 + (ROWS <= 1 ? 0 : 32 - __builtin_clz(ROWS - 1));

struct Beat {
  bool valid = false, swap = false;
  int8_t x[ROWS] = {};
  int tile = -1, index = -1;
};

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto top = std::make_unique<Vnpu_array>(ctx.get());
  const unsigned seed = argc > 1 ? std::atoi(argv[1]) : 1;
  const int ntiles = argc > 2 ? std::atoi(argv[2]) : 40;
  std::mt19937 rng(seed);
  auto r8 = [&]() { return static_cast<int8_t>(static_cast<int>(rng() % 256) - 128); };

  // Tiles: weights W[col][row], a list of activation vectors, a start cycle.
  struct Tile {
    std::vector<int8_t> w;
    std::vector<std::vector<int8_t>> xs;
    long start;
  };
  std::vector<Tile> tiles(ntiles);
  long t = 2;
  for (int k = 0; k < ntiles; k++) {
    Tile& tl = tiles[k];
    tl.w.resize(ROWS * COLS);
    for (auto& w : tl.w) w = r8();
    const int kind = rng() % 4;
    const int len = kind == 0 ? 1 : kind == 1 ? 1 + rng() % COLS : COLS + rng() % 40;
    tl.xs.resize(len);
    for (auto& x : tl.xs) {
      x.resize(ROWS);
      for (auto& v : x) v = r8();
    }
    tl.start = t;
    const int gap = rng() % 3 == 0 ? rng() % 4 : 0;  // sometimes idle cycles between tiles
    t += std::max(len, COLS) + gap;
  }
  const long end = t + ROWS + COLS + 8;

  // Schedule: per cycle, input beat and weight load.
  std::vector<Beat> in(end);
  std::vector<int> wl_tile(end, -1), wl_row(end, -1);
  for (int k = 0; k < ntiles; k++) {
    const Tile& tl = tiles[k];
    for (size_t i = 0; i < tl.xs.size(); i++) {
      Beat& b = in[tl.start + i];
      b.valid = true;
      b.swap = (i == 0);
      for (int r = 0; r < ROWS; r++) b.x[r] = tl.xs[i][r];
      b.tile = k;
      b.index = static_cast<int>(i);
    }
    for (int r = 0; r < ROWS; r++) {
      wl_tile[tl.start + r] = k;
      wl_row[tl.start + r] = r;
    }
  }

  // A real falling edge on rst_ni (the asynchronous resets react to the edge).
  top->clk_i = 0;
  top->rst_ni = 1;
  top->eval();
  top->rst_ni = 0;
  top->eval();
  top->rst_ni = 1;
  top->eval();
  long checked = 0;
  for (long c = 0; c < end && !ctx->gotFinish(); c++) {
    const Beat& b = in[c];
    top->in_valid_i = b.valid;
    top->in_swap_i = b.swap;
    for (int r = 0; r < ROWS; r++) vbitsSet(top->in_x_i, 8 * r, 8, static_cast<uint8_t>(b.x[r]));
    vbitsSet(top->in_tag_i, 0, 32, b.valid ? (static_cast<uint32_t>(b.tile) << 16) | b.index : 0);
    top->w_load_i = wl_tile[c] >= 0;
    if (wl_tile[c] >= 0) {
      top->w_row_i = wl_row[c];
      for (int j = 0; j < COLS; j++)
        vbitsSet(top->w_data_i, 8 * j, 8, static_cast<uint8_t>(tiles[wl_tile[c]].w[j * ROWS + wl_row[c]]));
    }
    top->clk_i = 0;
    top->eval();
    if (top->out_valid_o) {
      const uint32_t tag = static_cast<uint32_t>(vbitsGet(top->out_tag_o, 0, 32));
      const Tile& tl = tiles[tag >> 16];
      const auto& x = tl.xs[tag & 0xffff];
      for (int j = 0; j < COLS; j++) {
        int64_t want = 0;
        for (int r = 0; r < ROWS; r++) want += static_cast<int64_t>(x[r]) * tl.w[j * ROWS + r];
        const int64_t got = vbitsSext(vbitsGet(top->out_psum_o, kPsumWidth * j, kPsumWidth), kPsumWidth);
        if (got != want) {
          std::printf("FAIL tile %u vector %u column %d: got %lld want %lld\n", tag >> 16, tag & 0xffff, j,
                      static_cast<long long>(got), static_cast<long long>(want));
          return 1;
        }
      }
      checked++;
    }
    top->clk_i = 1;
    top->eval();
  }
  long expected = 0;
  for (auto& tl : tiles) expected += tl.xs.size();
  if (checked != expected) {
    std::printf("FAIL: %ld of %ld vectors came out\n", checked, expected);
    return 1;
  }
  top->final();
  std::printf("PASS %ld vectors\n", checked);
  return 0;
}
