`default_nettype none
// npu_crc16: CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final
// xor), one byte per cycle. The check value of "123456789" is 0x29B1.
//
// Handshake: pulse clear_i to load the initial value 0xFFFF; every cycle with
// en_i high folds data_i into the register (clear_i wins when both are high).
// crc_o is the CRC of all bytes folded since the last clear, valid the cycle after
// the last en_i.
module npu_crc16 (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        clear_i,
  input  wire        en_i,
  input  wire [7:0]  data_i,
  output wire [15:0] crc_o
);
  reg [15:0] crc_q;
  reg [15:0] crc_d;
  integer    i;

  // crc ^= data << 8; then 8 times: crc = crc[15] ? (crc << 1) ^ 0x1021 : crc << 1
  always @(*) begin
    crc_d = crc_q ^ {data_i, 8'h00};
    for (i = 0; i < 8; i = i + 1)
      crc_d = crc_d[15] ? ({crc_d[14:0], 1'b0} ^ 16'h1021) : {crc_d[14:0], 1'b0};
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)      crc_q <= 16'hFFFF;
    else if (clear_i) crc_q <= 16'hFFFF;
    else if (en_i)    crc_q <= crc_d;
  end

  assign crc_o = crc_q;
endmodule
`default_nettype wire
