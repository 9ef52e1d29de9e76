// Bit-field access to Verilator port values of any width (CData .. VlWide), so that
// benches work for every parameterization (the port type depends on the width).
#pragma once
#include <cstdint>
#include <verilated.h>

template <typename T>
static inline void vbitsSet(T& port, int lsb, int width, uint64_t value) {
  const uint64_t mask = (width >= 64) ? ~0ULL : ((1ULL << width) - 1);
  uint64_t v = static_cast<uint64_t>(port);
  v = (v & ~(mask << lsb)) | ((value & mask) << lsb);
  port = static_cast<T>(v);
}
template <typename T>
static inline uint64_t vbitsGet(const T& port, int lsb, int width) {
  const uint64_t mask = (width >= 64) ? ~0ULL : ((1ULL << width) - 1);
  return (static_cast<uint64_t>(port) >> lsb) & mask;
}
template <std::size_t W>
static inline void vbitsSet(VlWide<W>& port, int lsb, int width, uint64_t value) {
  for (int i = 0; i < width; i++) {
    const int b = lsb + i;
    const uint32_t bit = 1u << (b % 32);
    if ((value >> i) & 1) port[b / 32] |= bit;
    else port[b / 32] &= ~bit;
  }
}
template <std::size_t W>
static inline uint64_t vbitsGet(const VlWide<W>& port, int lsb, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; i++) {
    const int b = lsb + i;
    if ((port[b / 32] >> (b % 32)) & 1) v |= 1ULL << i;
  }
  return v;
}
static inline int64_t vbitsSext(uint64_t v, int width) {
  return (width >= 64) ? static_cast<int64_t>(v) : static_cast<int64_t>(v << (64 - width)) >> (64 - width);
}
