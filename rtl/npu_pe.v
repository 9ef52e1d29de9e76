`default_nettype none
// npu_pe: one processing element of the weight-stationary array (docs/ARCHITECTURE.md
// section 1). PE(i, j) holds the int8 weight W[j][i] and computes, every cycle,
//
//   south_psum = north_psum + west_x * weight
//
// while the activation travels on to the east neighbour (one register per PE).
//
// Weights are double-buffered: w_load_i writes the shadow register; the active
// register takes the shadow value in the cycle a west_swap_i token arrives with the
// activation, and that same activation already multiplies with the new weight. The
// token travels east with the data, so a new weight tile replaces the old one in a
// diagonal wave exactly between the last activation of one tile and the first of the
// next. The shadow may be written again from the cycle its swap happens (the swap
// reads the old shadow value).
module npu_pe #(
  parameter integer PsumWidth = 19
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,
  // weight load (shadow register)
  input  wire                 w_load_i,
  input  wire [7:0]           w_data_i,
  // west in
  input  wire [7:0]           west_x_i,
  input  wire                 west_swap_i,
  // east out
  output wire [7:0]           east_x_o,
  output wire                 east_swap_o,
  // north in
  input  wire [PsumWidth-1:0] north_psum_i,
  // south out
  output wire [PsumWidth-1:0] south_psum_o
);
  reg  [7:0]           shadow_q, active_q;
  reg  [7:0]           x_q;
  reg                  swap_q;
  reg  [PsumWidth-1:0] psum_q;
  wire [7:0]           weight = west_swap_i ? shadow_q : active_q;
  wire [15:0]          prod;

  npu_mul u_mul (
    .a_i(west_x_i),
    .b_i(weight),
    .p_o(prod)
  );

  // The token register is the only state that must reset: a stray swap would load a
  // stale weight. Data registers need no reset (the controller never uses them before
  // a tile has been loaded and swapped in).
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) swap_q <= 1'b0;
    else         swap_q <= west_swap_i;
  end

  always @(posedge clk_i) begin
    if (w_load_i) shadow_q <= w_data_i;
    if (west_swap_i) active_q <= shadow_q;
    x_q    <= west_x_i;
    psum_q <= north_psum_i + {{(PsumWidth-16){prod[15]}}, prod};
  end

  assign east_x_o     = x_q;
  assign east_swap_o  = swap_q;
  assign south_psum_o = psum_q;
endmodule
