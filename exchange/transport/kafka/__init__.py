"""The Kafka transport: the log on an Apache Kafka cluster, for production and scale-out."""

from exchange.transport.kafka.transport import KafkaTransport

__all__ = ["KafkaTransport"]
