`default_nettype none
// uart_tx_check: formal harness of npu_uart_tx (formal/uart_tx.ys). Any byte, offered
// at any time: every byte taken leaves as exactly one 8N1 frame, a low start bit, the
// eight data bits LSB first and a high stop bit, each exactly ClksPerBit cycles long;
// ready_o is low for that frame and high again the cycle after it (no deadlock); an
// idle line is high.
module uart_tx_check #(
  parameter integer ClksPerBit = 4
) (
  input wire       clk_i,
  input wire       rst_ni,
  input wire [7:0] data_i,   // free: any byte, offered whenever
  input wire       valid_i
);
  wire ready, tx;
  // The transmitter's own state, connected by formal/uart_tx.ys (connect -set): the
  // lemmas below tie it to the frame, so that induction closes in a few steps.
  (* keep *) wire [3:0] p_left;
  localparam integer CntW = $clog2(ClksPerBit + 1);
  (* keep *) wire [CntW-1:0] p_cnt;
  (* keep *) wire [7:0]      p_shift;

  npu_uart_tx #(.ClksPerBit(ClksPerBit)) dut (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .data_i (data_i),
    .valid_i(valid_i),
    .ready_o(ready),
    .tx_o   (tx)
  );

  // The frame the line must show: bit 0 start, 1..8 data, 9 stop; bc counts the cycles
  // of the bit.
  localparam [31:0] Last32 = ClksPerBit - 1;
  localparam [7:0]  Last = Last32[7:0];
  reg       busy_q;
  reg [3:0] bitn_q;
  reg [7:0] bc_q;
  reg [7:0] byte_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q <= 1'b0;
      bitn_q <= 4'd0;
      bc_q   <= 8'd0;
    end else if (!busy_q) begin
      if (valid_i && ready) begin
        busy_q <= 1'b1;
        bitn_q <= 4'd0;
        bc_q   <= 8'd0;
      end
    end else if (bc_q == Last) begin
      bc_q <= 8'd0;
      if (bitn_q == 4'd9) busy_q <= 1'b0;
      else                bitn_q <= bitn_q + 4'd1;
    end else begin
      bc_q <= bc_q + 8'd1;
    end
  end
  always @(posedge clk_i) if (!busy_q && valid_i && ready) byte_q <= data_i;

  wire [3:0] di   = bitn_q - 4'd1;
  wire       want = (bitn_q == 4'd0) ? 1'b0 : (bitn_q == 4'd9) ? 1'b1 : byte_q[di[2:0]];
  always @(*) if (rst_ni) begin
    assert (bitn_q <= 4'd9 && bc_q <= Last);
    // lemmas: bit times to go, the bit timer and the data bits still to send
    assert (busy_q ? p_left == 4'd10 - bitn_q : p_left == 4'd0);
    assert (!busy_q || {{(8 - CntW){1'b0}}, p_cnt} == bc_q);
    assert (!busy_q || (p_shift & (8'hFF >> bitn_q)) == (byte_q >> bitn_q));
    if (busy_q) begin
      assert (tx == want);
      assert (!ready);
    end else begin
      assert (tx);
      assert (ready);
    end
  end
endmodule
`default_nettype wire
