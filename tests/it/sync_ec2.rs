//! sync-ec2 against a real moto server: instances and Auto Scaling groups of two regions land
//! in the catalog with history, and a failing profile is named while the others are kept.

use crate::support::moto::Moto;
use crate::support::*;

fn sync(env: &Env, moto: &Moto, args: &[&str]) -> std::process::Output {
    let mut cmd = env.cmd(tool!("sync-ec2"));
    moto.env(&mut cmd);
    cmd.args(args).output().unwrap()
}

#[test]
fn instances_and_groups_of_two_regions_are_stored_with_history() {
    let moto = Moto::start();
    let fleet = moto.fleet();
    let env = Env::new();
    let config = write_config(&env, "[ec2]\nregions = [\"us-east-1\", \"eu-west-1\"]\n");
    let c = config.to_str().unwrap();

    let out = sync(&env, &moto, &["--config", c]);
    assert_status(&out, 0);
    assert_eq!(stderr(&out), "");

    // 5 plain instances and 8 group members in us-east-1, 1 in eu-west-1.
    assert_eq!(
        env.sql(
            "SELECT region || ' ' || count(*) FROM ec2_instances GROUP BY region ORDER BY region"
        ),
        ["eu-west-1 1", "us-east-1 13"]
    );
    let w = &fleet.web7;
    // (JSON columns are read back and parsed here: SQL's JSON functions differ between the
    // backends the suite runs on.)
    let state = |id: &str, column: &str| {
        env.sql(&format!(
            "SELECT s.{column} FROM ec2_instance_states s \
             JOIN ec2_instances i ON i.id = s.instance_id WHERE i.instance_id = '{id}'"
        ))
    };
    let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
    assert_eq!(
        env.sql(&format!(
            "SELECT s.name || ' ' || s.state || ' ' || s.private_ip || ' ' || s.public_ip || ' ' \
               || s.instance_type \
             FROM ec2_instance_states s JOIN ec2_instances i ON i.id = s.instance_id \
             WHERE i.instance_id = '{}'",
            w.id
        )),
        [format!(
            "web-7 running {} {} t3.micro",
            w.private_ip,
            w.public_ip.as_deref().unwrap()
        )]
    );
    assert_eq!(json(&state(&w.id, "tags")[0])["role"], "web");
    assert_eq!(
        env.sql(&format!(
            "SELECT coalesce(s.public_ip, 'none') || ' ' \
               || CASE WHEN s.vpc_id LIKE 'vpc-%' THEN 1 ELSE 0 END \
             FROM ec2_instance_states s JOIN ec2_instances i ON i.id = s.instance_id \
             WHERE i.instance_id = '{}'",
            fleet.db1.id
        )),
        ["none 1"]
    );
    let interfaces = json(&state(&fleet.db1.id, "interfaces")[0]);
    assert_eq!(interfaces.as_array().unwrap().len(), 1, "{interfaces}");
    assert_eq!(
        env.sql(&format!(
            "SELECT s.state FROM ec2_instance_states s JOIN ec2_instances i ON i.id = s.instance_id \
             WHERE i.instance_id = '{}'",
            fleet.old1.id
        )),
        ["stopped"]
    );
    // Group membership on the instance, and the group with its members' health.
    assert_eq!(
        env.sql(&format!(
            "SELECT s.asg_name FROM ec2_instance_states s JOIN ec2_instances i ON i.id = s.instance_id \
             WHERE i.instance_id = '{}'",
            fleet.web_prod_unhealthy
        )),
        ["web-prod"]
    );
    let groups: Vec<String> = env
        .sql("SELECT name || ' ' || desired || ' ' || members FROM ec2_asgs WHERE current = 1 ORDER BY name")
        .iter()
        .map(|row| {
            let mut parts = row.splitn(3, ' ');
            let (name, desired) = (parts.next().unwrap(), parts.next().unwrap());
            let members = json(parts.next().unwrap());
            format!("{name} {desired} {}", members.as_array().unwrap().len())
        })
        .collect();
    assert_eq!(
        groups,
        [
            "api-blue-1 2 2",
            "api-blue-2 2 2",
            "api-blue-3 0 0",
            "web-prod 4 4"
        ]
    );
    let members = json(&env.sql("SELECT members FROM ec2_asgs WHERE name = 'web-prod'")[0]);
    let unhealthy: Vec<&serde_json::Value> = members
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["instance_id"] == fleet.web_prod_unhealthy.as_str())
        .map(|m| &m["health"])
        .collect();
    assert_eq!(unhealthy, ["Unhealthy"]);
    assert_eq!(
        env.sql("SELECT target || ' ' || CASE WHEN error IS NULL THEN 1 ELSE 0 END FROM scans ORDER BY target"),
        ["eu-west-1 1", "us-east-1 1"]
    );

    // whatis-host ties the Name to its instance, from the catalog alone.
    let out = env.run(tool!("whatis-host"), &["web-7", "--no-dns", "--json"]);
    assert_status(&out, 0);
    let card: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(card["ec2"][0]["id"], w.id.as_str(), "{card}");
    assert_eq!(card["ec2"][0]["state"], "running");
    assert_eq!(card["ec2"][0]["current"], true);

    // Nothing changed: the same rows, seen again.
    let out = sync(&env, &moto, &["--config", c]);
    assert_status(&out, 0);
    assert_eq!(env.sql("SELECT count(*) FROM ec2_instance_states"), ["14"]);
    assert_eq!(env.sql("SELECT count(*) FROM ec2_asgs"), ["4"]);

    // web-7 is stopped: a new state row, the old one kept as history.
    moto.stop("us-east-1", &w.id);
    let out = sync(&env, &moto, &["--config", c]);
    assert_status(&out, 0);
    assert_eq!(
        env.sql(&format!(
            "SELECT s.state || ' ' || s.current FROM ec2_instance_states s \
             JOIN ec2_instances i ON i.id = s.instance_id WHERE i.instance_id = '{}' \
             ORDER BY s.id",
            w.id
        )),
        ["running 0", "stopped 1"]
    );

    // Syncing one region does not retire the other's instances.
    let out = sync(&env, &moto, &["--region", "us-east-1"]);
    assert_status(&out, 0);
    assert_eq!(
        env.sql("SELECT count(*) FROM ec2_instances WHERE current = 1"),
        ["14"]
    );
}

#[test]
fn a_failing_profile_is_named_and_the_others_are_kept() {
    let moto = Moto::start();
    let _fleet = moto.fleet();
    let env = Env::new();
    // Two profiles in the user's own AWS files: one reaches moto, one a dead endpoint.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let aws = env.home.join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[profile good]\nregion = us-east-1\nendpoint_url = {}\n\n\
             [profile bad]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:{dead}\n",
            moto.endpoint()
        ),
    )
    .unwrap();
    std::fs::write(
        aws.join("credentials"),
        "[good]\naws_access_key_id = testing\naws_secret_access_key = testing\n\n\
         [bad]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    let config = write_config(&env, "[ec2]\nprofiles = [\"good\", \"bad\"]\n");
    let mut cmd = env.cmd(tool!("sync-ec2"));
    for var in [
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.arg("--config").arg(&config).output().unwrap();
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("sync-ec2: bad/us-east-1: ") && err.contains("cannot reach"),
        "{err}"
    );
    assert_eq!(
        env.sql("SELECT count(*) FROM ec2_instances WHERE current = 1"),
        ["13"]
    );
    assert_eq!(
        env.sql("SELECT target || ' ' || CASE WHEN error IS NULL THEN 1 ELSE 0 END FROM scans ORDER BY target"),
        ["bad/us-east-1 0", "good/us-east-1 1"]
    );
}
