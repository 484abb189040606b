package org.qlimit.recon;

import java.util.ArrayList;
import java.util.List;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.nn.Activation;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Unit;
import org.qlimit.util.Check;

/**
 * Consecutive units of a model run as one reconstruction unit (a stage or the whole network,
 * {@link Granularity}): forward runs them in order; layers and activation sites are theirs, in
 * order; the output site is the last unit's. Named {@code first..last}.
 *
 * @param name the group's name
 * @param kind "stage" or "net"
 * @param units the units, in execution order (at least two)
 */
record UnitGroup(String name, String kind, List<Unit> units) implements Unit {

  UnitGroup {
    units = List.copyOf(units);
    Check.arg(units.size() >= 2, "a unit group needs at least two units, got %d", units.size());
  }

  /** The units as one group, or the unit itself when there is only one. */
  static Unit of(String kind, List<Unit> units) {
    if (units.size() == 1) {
      return units.get(0);
    }
    String name = units.get(0).name() + ".." + units.get(units.size() - 1).name();
    return new UnitGroup(name, kind, units);
  }

  /** The last of the grouped units (the one whose output is the group's). */
  Unit last() {
    return units.get(units.size() - 1);
  }

  @Override
  public List<Layer> layers() {
    List<Layer> out = new ArrayList<>();
    for (Unit u : units) {
      out.addAll(u.layers());
    }
    return out;
  }

  @Override
  public List<String> actSites() {
    List<String> out = new ArrayList<>();
    for (Unit u : units) {
      out.addAll(u.actSites());
    }
    return out;
  }

  @Override
  public String outputSite() {
    return last().outputSite();
  }

  @Override
  public Var forward(Graph g, Var x, ForwardContext ctx) {
    Var h = x;
    for (Unit u : units) {
      h = u.forward(g, h, ctx);
    }
    return h;
  }

  @Override
  public Var prologue(Graph g, Var x) {
    return units.get(0).prologue(g, x);
  }

  @Override
  public int[] outputShape(int[] inputShape) {
    int[] s = inputShape;
    for (Unit u : units) {
      s = u.outputShape(s);
    }
    return s;
  }

  @Override
  public Activation activationAfter(Layer layer) {
    for (Unit u : units) {
      if (u.layers().contains(layer)) {
        return u.activationAfter(layer);
      }
    }
    return Activation.NONE;
  }
}
