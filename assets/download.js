/* PNG of a chart with its title, organisation, month and source drawn in
   (dashboard/components/download.py). Plotly draws a copy; the page's chart is untouched. */
window.carekpi = window.carekpi || {};

window.carekpi.escapeText = function (text) {
  return String(text || "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
};

window.carekpi.captionedFigure = function (gd, caption) {
  /* Title and subtitle on top, the legend under them, the source at the very bottom below the
     x-axis title: fixed margins, so nothing overlaps whatever the page's layout was. */
  var esc = window.carekpi.escapeText;
  var layout = JSON.parse(JSON.stringify(gd.layout || {}));
  var margin = layout.margin || {};
  layout.margin = Object.assign({}, margin, {t: 150, b: 130, autoexpand: true});
  layout.title = {
    text: "<b>" + esc(caption.title) + "</b><br><span style='font-size:18px'>" +
      esc(caption.subtitle) + "</span>",
    x: 0.01, xanchor: "left", xref: "container", y: 0.97, yanchor: "top", yref: "container",
    automargin: false, font: {size: 24}
  };
  layout.legend = Object.assign({}, layout.legend || {}, {
    orientation: "h", x: 0, xanchor: "left", y: 1.02, yanchor: "bottom"
  });
  layout.annotations = (layout.annotations || []).concat([{
    text: esc(caption.source), showarrow: false, xref: "paper", yref: "paper",
    x: 0, xanchor: "left", y: 0, yanchor: "top", yshift: -95, font: {size: 14}
  }]);
  layout.width = caption.width;
  layout.height = caption.height;
  return {data: gd.data, layout: layout};
};

window.carekpi.downloadPng = function (n, caption) {
  var none = window.dash_clientside.no_update;
  if (!n || !caption) { return none; }
  var host = document.getElementById(caption.graph);
  var gd = host && (host.classList.contains("js-plotly-plot") ? host :
    host.querySelector(".js-plotly-plot"));
  if (!gd || !gd.data) { return none; }
  window.Plotly.downloadImage(window.carekpi.captionedFigure(gd, caption), {
    format: "png", filename: caption.filename, width: caption.width, height: caption.height
  });
  return none;
};
