FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY market market
COPY sellers sellers
COPY ranking ranking
COPY payments payments
COPY feedback feedback
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu .
ENV AGORA_DATA_DIR=/var/lib/agora AGORA_HOST=0.0.0.0
EXPOSE 8000
CMD ["agora", "serve"]
