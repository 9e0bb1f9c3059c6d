package io.walrelay.ci.apicurio;

import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import java.util.List;
import javax.enterprise.inject.Produces;
import javax.inject.Singleton;

/**
 * Stands in for the build step of the Quarkus extension
 * apicurio-common-app-components-config-index, whose deployment artifact
 * (io.apicurio:apicurio-common-app-components-config-index-deployment) Maven
 * Central does not serve. That step indexes the registry's {@code @Dynamic}
 * config properties; without it no property is changeable at run time through
 * the admin API, and every property keeps its static (application.properties,
 * environment, -D) value, which is all the CI registry needs.
 */
public class DynamicConfigPropertyListProducer {

    /** The CDI bean the registry's dynamic-config code injects: an empty list. */
    @Produces
    @Singleton
    public DynamicConfigPropertyList dynamicConfigPropertyList() {
        return new DynamicConfigPropertyList(List.of());
    }
}
