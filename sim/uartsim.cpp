// UartSim: see uartsim.h.
#include "uartsim.h"

UartSim::UartSim(unsigned clks_per_bit, double ber, uint64_t seed)
    : cpb_(clks_per_bit), ber_(ber), rng_(seed), coin_(ber > 0.0 ? ber : 0.0), ber_out_(ber),
      coin_out_(ber > 0.0 ? ber : 0.0) {}

void UartSim::set_ber_out(double ber) {
  ber_out_ = ber;
  coin_out_ = std::bernoulli_distribution(ber > 0.0 ? ber : 0.0);
}

bool UartSim::flip() {
  if (ber_ <= 0.0 || !coin_(rng_)) return false;
  ++flips_;
  return true;
}

bool UartSim::flip_out() {
  if (ber_out_ <= 0.0 || !coin_out_(rng_)) return false;
  ++flips_;
  return true;
}

void UartSim::send(const uint8_t *data, size_t n) { tx_queue_.insert(tx_queue_.end(), data, data + n); }

bool UartSim::recv(uint8_t &byte) {
  if (rx_queue_.empty()) return false;
  byte = rx_queue_.front();
  rx_queue_.pop_front();
  return true;
}

int UartSim::tick(int design_tx) {
  // ---- host -> design: one level per bit, held for cpb_ cycles
  if (tx_state_ == Idle) {
    if (!tx_queue_.empty()) {
      tx_byte_ = tx_queue_.front();
      tx_queue_.pop_front();
      tx_state_ = Start;
      tx_count_ = 0;
      tx_level_ = flip() ? 1 : 0;
    } else {
      tx_level_ = 1;
    }
  } else if (++tx_count_ == cpb_) {
    tx_count_ = 0;
    if (tx_state_ == Start) {
      tx_state_ = Data;
      tx_bit_ = 0;
      tx_level_ = ((tx_byte_ >> 0) & 1) ^ flip();
    } else if (tx_state_ == Data) {
      if (++tx_bit_ == 8) {
        tx_state_ = Stop;
        tx_level_ = 1 ^ flip();
      } else {
        tx_level_ = ((tx_byte_ >> tx_bit_) & 1) ^ flip();
      }
    } else {  // end of the stop bit
      tx_state_ = Idle;
      ++bytes_sent_;
      if (!tx_queue_.empty()) {  // back to back
        tx_byte_ = tx_queue_.front();
        tx_queue_.pop_front();
        tx_state_ = Start;
        tx_level_ = flip() ? 1 : 0;
      } else {
        tx_level_ = 1;
      }
    }
  }

  // ---- design -> host: sample in the middle of each bit
  switch (rx_state_) {
    case Idle:
      if (!design_tx) {
        rx_state_ = Start;
        rx_count_ = 0;
      }
      break;
    case Start:
      if (++rx_count_ == cpb_ / 2) {
        rx_count_ = 0;
        if ((design_tx ^ flip_out()) == 0) {
          rx_state_ = Data;
          rx_bit_ = 0;
          rx_byte_ = 0;
        } else {
          rx_state_ = Idle;  // a glitch, not a start bit
        }
      }
      break;
    case Data:
      if (++rx_count_ == cpb_) {
        rx_count_ = 0;
        rx_byte_ |= static_cast<uint8_t>((design_tx ^ flip_out()) << rx_bit_);
        if (++rx_bit_ == 8) rx_state_ = Stop;
      }
      break;
    case Stop:
      if (++rx_count_ == cpb_) {
        rx_count_ = 0;
        ++bytes_received_;
        if (design_tx ^ flip_out()) {
          rx_queue_.push_back(rx_byte_);
          rx_state_ = Idle;
        } else {
          ++framing_errors_;
          rx_queue_.push_back(0);
          rx_state_ = design_tx ? Idle : WaitHigh;
        }
      }
      break;
    case WaitHigh:
      if (design_tx) rx_state_ = Idle;
      break;
  }
  return tx_level_;
}
