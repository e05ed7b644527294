//! A real moto server (PyPI `moto[server]`) on loopback, playing EC2 and Auto Scaling in every
//! region, and the fleet the sshec2 and sync-ec2 tests run against, built through the AWS SDK
//! itself.

use std::net::{Ipv4Addr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use aws_sdk_autoscaling::types::LaunchTemplateSpecification;
use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ec2::types::{
    InstanceNetworkInterfaceSpecification, RequestLaunchTemplateData, ResourceType, Tag,
    TagSpecification,
};

use super::peer::Peer;

/// A moto server; killed when dropped.
pub struct Moto {
    peer: Peer,
}

impl Moto {
    pub fn start() -> Moto {
        let venv = std::env::var_os("OPSKIT_TEST_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/var/tmp/opskit-test-venv"));
        let program = venv.join("bin/moto_server");
        assert!(
            program.is_file(),
            "moto is not installed at {}: run scripts/test.sh (it creates that virtualenv), \
             or {}/bin/pip install 'moto[server]==5.2.5'",
            program.display(),
            venv.display()
        );
        let peer = Peer::tcp(Ipv4Addr::LOCALHOST)
            // It imports the whole of moto before it binds.
            .patience(Duration::from_secs(60))
            .start(
                |port| {
                    let mut cmd = Command::new(&program);
                    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
                    cmd
                },
                |probe| TcpStream::connect((Ipv4Addr::LOCALHOST, probe.port)).is_ok(),
            );
        Moto { peer }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer.port())
    }

    /// Points a command at this server with dummy credentials, and nothing else of AWS.
    pub fn env(&self, cmd: &mut Command) {
        for var in [
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1");
    }

    fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(self.endpoint())
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    fn autoscaling(&self, region: &str) -> aws_sdk_autoscaling::Client {
        let conf = aws_sdk_autoscaling::Config::builder()
            .behavior_version(aws_sdk_autoscaling::config::BehaviorVersion::latest())
            .region(aws_sdk_autoscaling::config::Region::new(region.to_string()))
            .endpoint_url(self.endpoint())
            .credentials_provider(aws_sdk_autoscaling::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .build();
        aws_sdk_autoscaling::Client::from_conf(conf)
    }
}

/// An AMI moto ships.
const AMI: &str = "ami-12c6146b";

/// One instance of the fleet as the tests expect it.
#[derive(Debug, Clone)]
pub struct Made {
    pub id: String,
    pub private_ip: String,
    pub public_ip: Option<String>,
}

/// The fleet: instances with tags across two regions, groups, an unhealthy member, stopped
/// instances and one without a public address.
#[derive(Debug)]
pub struct Fleet {
    /// us-east-1, Name=web-7, env=prod, role=web.
    pub web7: Made,
    /// us-east-1, Name=db-1, env=prod, role=db, no public address.
    pub db1: Made,
    /// us-east-1, Name=old-1, stopped.
    pub old1: Made,
    /// us-east-1, Name=dup, launched first and second.
    pub dup_old: Made,
    pub dup_new: Made,
    /// eu-west-1, Name=web-eu, env=prod.
    pub web_eu: Made,
    /// us-east-1, group web-prod: healthy members and the one marked Unhealthy.
    pub web_prod_healthy: Vec<String>,
    pub web_prod_unhealthy: String,
    /// us-east-1, the members of api-blue-2, newer than api-blue-1 and older than api-blue-3,
    /// which is empty.
    pub api_new: Vec<String>,
}

fn tags(pairs: &[(&str, &str)]) -> TagSpecification {
    let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
    for (k, v) in pairs {
        spec = spec.tags(Tag::builder().key(*k).value(*v).build());
    }
    spec.build()
}

impl Moto {
    /// Stops an instance.
    pub fn stop(&self, region: &str, id: &str) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(self.ec2(region).stop_instances().instance_ids(id).send())
            .unwrap();
    }

    /// An instance's private address, as EC2 itself describes it.
    pub fn private_ip(&self, region: &str, id: &str) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let out = rt
            .block_on(
                self.ec2(region)
                    .describe_instances()
                    .instance_ids(id)
                    .send(),
            )
            .unwrap();
        out.reservations()[0].instances()[0]
            .private_ip_address()
            .unwrap()
            .to_string()
    }

    /// Builds the fleet (takes a few seconds: launch times and group creation times must
    /// differ by at least a second).
    pub fn fleet(&self) -> Fleet {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(self.build_fleet())
    }

    async fn run(
        &self,
        region: &str,
        pairs: &[(&str, &str)],
        subnet: Option<&str>,
        public: bool,
    ) -> Made {
        let ec2 = self.ec2(region);
        let mut req = ec2
            .run_instances()
            .image_id(AMI)
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .tag_specifications(tags(pairs));
        if let Some(s) = subnet {
            req = req.network_interfaces(
                InstanceNetworkInterfaceSpecification::builder()
                    .device_index(0)
                    .subnet_id(s)
                    .associate_public_ip_address(public)
                    .build(),
            );
        }
        let out = req.send().await.unwrap();
        let i = &out.instances()[0];
        Made {
            id: i.instance_id().unwrap().to_string(),
            private_ip: i.private_ip_address().unwrap().to_string(),
            public_ip: i.public_ip_address().map(str::to_string),
        }
    }

    async fn group(&self, name: &str, size: i32) -> Vec<String> {
        let asg = self.autoscaling("us-east-1");
        asg.create_auto_scaling_group()
            .auto_scaling_group_name(name)
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .launch_template_name("web-lt")
                    .version("$Latest")
                    .build(),
            )
            .min_size(0)
            .max_size(5)
            .desired_capacity(size)
            .availability_zones("us-east-1a")
            .send()
            .await
            .unwrap();
        let out = asg
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(name)
            .send()
            .await
            .unwrap();
        let mut ids: Vec<String> = out.auto_scaling_groups()[0]
            .instances()
            .iter()
            .map(|i| i.instance_id().unwrap().to_string())
            .collect();
        ids.sort();
        assert_eq!(ids.len(), size as usize, "moto did not launch the group");
        ids
    }

    async fn build_fleet(&self) -> Fleet {
        let ec2 = self.ec2("us-east-1");
        let vpc = ec2
            .create_vpc()
            .cidr_block("10.9.0.0/16")
            .send()
            .await
            .unwrap();
        let vpc_id = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block("10.9.1.0/24")
            .availability_zone("us-east-1b")
            .send()
            .await
            .unwrap();
        let subnet_id = subnet.subnet().unwrap().subnet_id().unwrap().to_string();

        let web7 = self
            .run(
                "us-east-1",
                &[("Name", "web-7"), ("env", "prod"), ("role", "web")],
                None,
                true,
            )
            .await;
        let db1 = self
            .run(
                "us-east-1",
                &[("Name", "db-1"), ("env", "prod"), ("role", "db")],
                Some(&subnet_id),
                false,
            )
            .await;
        let old1 = self
            .run(
                "us-east-1",
                &[("Name", "old-1"), ("env", "prod")],
                None,
                true,
            )
            .await;
        ec2.stop_instances()
            .instance_ids(&old1.id)
            .send()
            .await
            .unwrap();
        let dup_old = self
            .run("us-east-1", &[("Name", "dup"), ("env", "test")], None, true)
            .await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let dup_new = self
            .run("us-east-1", &[("Name", "dup"), ("env", "test")], None, true)
            .await;
        let web_eu = self
            .run(
                "eu-west-1",
                &[("Name", "web-eu"), ("env", "prod")],
                None,
                true,
            )
            .await;

        ec2.create_launch_template()
            .launch_template_name("web-lt")
            .launch_template_data(
                RequestLaunchTemplateData::builder()
                    .image_id(AMI)
                    .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let web_prod = self.group("web-prod", 4).await;
        let web_prod_unhealthy = web_prod[0].clone();
        self.autoscaling("us-east-1")
            .set_instance_health()
            .instance_id(&web_prod_unhealthy)
            .health_status("Unhealthy")
            .send()
            .await
            .unwrap();
        self.group("api-blue-1", 2).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let api_new = self.group("api-blue-2", 2).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        self.group("api-blue-3", 0).await;

        Fleet {
            web7,
            db1,
            old1,
            dup_old,
            dup_new,
            web_eu,
            web_prod_healthy: web_prod[1..].to_vec(),
            web_prod_unhealthy,
            api_new,
        }
    }
}
