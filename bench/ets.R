# R's forecast::ets on the same series as `xsell forecast` (make bench), written in
# its CSV layout. Usage: Rscript ets.R TRAIN.csv PERIOD H OUT.csv
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(forecast))
lines <- readLines(args[1])
m <- as.integer(args[2]); h <- as.integer(args[3])
out <- file(args[4], "w")
writeLines("id,model,step,mean", out)
for (ln in lines) {
  f <- strsplit(ln, ",")[[1]]
  y <- ts(as.numeric(f[-1]), frequency = m)
  fit <- ets(y)
  fc <- forecast(fit, h = h)$mean
  writeLines(sprintf('%s,"%s",%d,%.10g', f[1], fit$method, seq_len(h), as.numeric(fc)), out)
}
close(out)
