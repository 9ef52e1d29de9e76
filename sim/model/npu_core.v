`default_nettype none
/* verilator lint_off WIDTH */        // test-only model: addresses against integer sizes
/* verilator lint_off UNUSEDPARAM */  // test-only model: AccDepth is part of the port contract
// Behavioural stand-in for npu_core (test benches only, never synthesised): the host
// port of docs/ARCHITECTURE.md section 5 over plain arrays, so that the link can be
// tested on its own. Spaces hold Words32 host words each; ack comes two cycles after a
// request; out-of-range addresses are ignored (no wrap, no write) like the real core.
// A run is busy for 100 + DMEM[0][15:0] cycles and stores that count in CNT[0];
// abort_i ends it at once, without done_o.
module npu_core #(
  parameter integer Dim       = 8,
  parameter integer AmemWords = 16384,
  parameter integer WmemWords = 65536,
  parameter integer DmemWords = 256,
  parameter integer AccDepth  = 1024,
  parameter integer MaxLayers = 16
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        bus_req_i,
  input  wire        bus_we_i,
  input  wire [1:0]  bus_space_i,
  input  wire [23:0] bus_addr_i,
  input  wire [31:0] bus_wdata_i,
  output reg         bus_ack_o,
  output reg  [31:0] bus_rdata_o,
  input  wire        start_i,
  input  wire        abort_i,
  output reg         busy_o,
  output reg         done_o
);
  localparam integer AW = AmemWords * Dim / 4;
  localparam integer WW = WmemWords * Dim / 4;
  localparam integer CW = 2 * MaxLayers;
  reg [31:0] amem [0:AW-1];
  reg [31:0] wmem [0:WW-1];
  reg [31:0] dmem [0:DmemWords-1];
  reg [31:0] cnt  [0:CW-1];
  reg        pend_q;
  reg [31:0] left_q, ran_q;
  integer    i;
  initial begin
    for (i = 0; i < AW; i = i + 1) amem[i] = 32'd0;
    for (i = 0; i < WW; i = i + 1) wmem[i] = 32'd0;
    for (i = 0; i < DmemWords; i = i + 1) dmem[i] = 32'd0;
    for (i = 0; i < CW; i = i + 1) cnt[i] = 32'd0;
  end
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      bus_ack_o <= 1'b0; pend_q <= 1'b0; busy_o <= 1'b0; done_o <= 1'b0;
      left_q <= 32'd0; ran_q <= 32'd0; bus_rdata_o <= 32'd0;
    end else begin
      bus_ack_o <= pend_q;
      pend_q    <= bus_req_i;
      done_o    <= 1'b0;
      if (bus_req_i) begin
        case (bus_space_i)
          2'd0: if (bus_addr_i < AW) begin
            if (bus_we_i) amem[bus_addr_i] <= bus_wdata_i; else bus_rdata_o <= amem[bus_addr_i];
          end
          2'd1: if (bus_addr_i < WW) begin
            if (bus_we_i) wmem[bus_addr_i] <= bus_wdata_i; else bus_rdata_o <= wmem[bus_addr_i];
          end
          2'd2: if (bus_addr_i < DmemWords) begin
            if (bus_we_i) dmem[bus_addr_i] <= bus_wdata_i; else bus_rdata_o <= dmem[bus_addr_i];
          end
          default: if (bus_addr_i < CW && !bus_we_i) bus_rdata_o <= cnt[bus_addr_i];
        endcase
      end
      if (start_i && !busy_o) begin
        busy_o <= 1'b1;
        left_q <= 32'd100 + {16'd0, dmem[0][15:0]};
        ran_q  <= 32'd0;
      end else if (busy_o && abort_i) begin
        busy_o <= 1'b0;
      end else if (busy_o) begin
        ran_q  <= ran_q + 32'd1;
        left_q <= left_q - 32'd1;
        if (left_q == 32'd1) begin
          busy_o <= 1'b0;
          done_o <= 1'b1;
          cnt[0] <= ran_q + 32'd1;
        end
      end
    end
  end
endmodule
`default_nettype wire
