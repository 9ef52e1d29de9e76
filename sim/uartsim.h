// UartSim: the host end of a UART line for a Verilated design, in the manner of
// wbuart32's uartsim. Call tick() once per clock cycle with the level of the design's
// TX pin; it returns the level to drive on the design's RX pin. Bytes queued with
// send() leave as 8N1 frames at clks_per_bit cycles per bit, back to back; bytes the
// design sends are decoded (mid-bit sampling) into a queue read with recv().
//
// Fault injection: with bit-error rate p, every bit on either line (start, data and
// stop bits) is inverted with probability p — for the whole bit on the host-to-design
// line, at the sampling point on the design-to-host line. set_ber_out() gives the
// design-to-host line a rate of its own (a receive line that only delivers garbage). A bad stop bit on the
// design-to-host line is a framing error: like a Linux tty in raw mode, it delivers 0.
// The self-checking bench (sim/link_selftest.cpp) and the pseudo-terminal board
// (sim/board_sim.cpp) share this model.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

class UartSim {
 public:
  explicit UartSim(unsigned clks_per_bit, double ber = 0.0, uint64_t seed = 1);
  void set_ber_out(double ber);

  void send(const uint8_t *data, size_t n);
  void send(const std::vector<uint8_t> &bytes) { send(bytes.data(), bytes.size()); }
  int tick(int design_tx);

  bool recv(uint8_t &byte);
  size_t pending_rx() const { return rx_queue_.size(); }
  // true while a byte is queued or on either line
  bool busy() const { return !tx_queue_.empty() || tx_state_ != Idle || rx_state_ != Idle; }
  size_t tx_backlog() const { return tx_queue_.size(); }

  uint64_t bits_flipped() const { return flips_; }
  uint64_t framing_errors() const { return framing_errors_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t bytes_received() const { return bytes_received_; }

 private:
  enum State { Idle, Start, Data, Stop, WaitHigh };
  bool flip();
  bool flip_out();

  unsigned cpb_;
  double ber_;
  std::mt19937_64 rng_;
  std::bernoulli_distribution coin_;
  double ber_out_;
  std::bernoulli_distribution coin_out_;

  // host -> design
  std::deque<uint8_t> tx_queue_;
  State tx_state_ = Idle;
  unsigned tx_count_ = 0, tx_bit_ = 0;
  uint8_t tx_byte_ = 0;
  int tx_level_ = 1;

  // design -> host
  std::deque<uint8_t> rx_queue_;
  State rx_state_ = Idle;
  unsigned rx_count_ = 0, rx_bit_ = 0;
  uint8_t rx_byte_ = 0;

  uint64_t flips_ = 0, framing_errors_ = 0, bytes_sent_ = 0, bytes_received_ = 0;
};
