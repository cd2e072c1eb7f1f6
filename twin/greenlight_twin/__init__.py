"""The local blue/green twin: AWS APIs (moto, extended), an ALB-like load balancer, Lambda through the RIE.

Never imported by the hook handlers; needs the `twin` extra (moto, awslambdaric). Brings what it needs
to run anywhere greenlight is installed: a template of the hook functions, the sample service.

- `controller`: the Twin (config in `config`, its hook functions in `hooks`, its load balancer wiring in
  `traffic`); `stage`: what a deployment player may use of it; `players`: CodeDeploy and ECS players;
  `outcome`: how a deployment ended; `hooklog`: the hook functions' structured log events;
  `progress`: events and the console view.
- `aws`: moto and its extensions; `lb`: the load balancer; `functions`: Lambda functions in the
  Runtime Interface Emulator; `cfn`: CloudFormation templates read and evaluated; `services`: the
  service's tasks; `processes`: child processes.
- `cli` (`greenlight twin`), `control` (its API), `pytest_plugin`, `demo`, `shipped` (what it brings).
"""
