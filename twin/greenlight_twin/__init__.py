"""The local blue/green twin: AWS APIs (moto, extended), an ALB-like load balancer, Lambda through the RIE.

Never imported by the hook handlers; needs the `twin` extra (moto, awslambdaric).
"""
